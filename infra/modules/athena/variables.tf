variable "workgroup_name" {
  description = "Name of the Athena workgroup (B3LAKE_ATHENA_WORKGROUP)."
  type        = string
}

variable "results_bucket_id" {
  description = "Bucket Athena writes query results to (enforced for every query of the workgroup)."
  type        = string
}

variable "database_name" {
  description = "Glue Data Catalog database the named queries run against."
  type        = string
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Cancel any query of the workgroup that scans more than this many bytes (a cost guard; minimum 10 MB)."
  type        = number
  default     = 10737418240 # 10 GiB

  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760
    error_message = "Athena's minimum bytes_scanned_cutoff_per_query is 10 MB (10485760)."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the workgroup together with its saved queries and history."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the workgroup."
  type        = map(string)
  default     = {}
}
