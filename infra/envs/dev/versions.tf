terraform {
  # 1.9+: variable validations may refer to other variables.
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.65, < 6.0"
    }
  }

  # Local state by default. CI (.github/workflows/terraform.yml) writes a backend_override.tf with an S3 backend.
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
