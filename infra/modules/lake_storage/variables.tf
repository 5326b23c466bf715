variable "lake_bucket_name" {
  description = "Name of the data-lake bucket (raw/, refined/, quarantine/ live in it)."
  type        = string
}

variable "scripts_bucket_name" {
  description = "Name of the bucket holding the Glue script, the b3lake wheel and Glue's temporary files."
  type        = string
}

variable "athena_results_bucket_name" {
  description = "Name of the bucket Athena writes query results to."
  type        = string
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside the lake bucket: \"\" (bucket root) or a path ending in \"/\"."
  type        = string
  default     = ""

  validation {
    condition     = var.lake_prefix == "" || (endswith(var.lake_prefix, "/") && !startswith(var.lake_prefix, "/"))
    error_message = "lake_prefix must be empty or a relative key prefix ending in \"/\" (e.g. \"b3/\")."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets (every object and version in them). Keep false outside throw-away environments."
  type        = bool
  default     = false
}

variable "raw_transition_to_ia_days" {
  description = "Days after which raw/ objects move to S3 Standard-IA (the refine job only re-reads the last weeks of raw)."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_transition_to_ia_days >= 30
    error_message = "S3 accepts a transition to STANDARD_IA only after 30 days or more."
  }
}

variable "quarantine_expiration_days" {
  description = "Days after which quarantined (rejected) rows expire."
  type        = number
  default     = 180
}

variable "athena_results_expiration_days" {
  description = "Days after which Athena query results expire."
  type        = number
  default     = 30
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted object versions expire (all buckets are versioned)."
  type        = number
  default     = 30
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which incomplete multipart uploads are aborted."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
