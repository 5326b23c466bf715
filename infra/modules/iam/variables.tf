variable "name_prefix" {
  description = "Prefix of every role and policy name (e.g. \"b3lake-dev\")."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the data-lake bucket."
  type        = string
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside the lake bucket (\"\" or ending in \"/\")."
  type        = string
  default     = ""
}

variable "scripts_bucket_arn" {
  description = "ARN of the scripts bucket (Glue script, wheel, temporary files)."
  type        = string
}

variable "glue_job_name" {
  description = "Name of the refine Glue job the trigger Lambda may start."
  type        = string
}

variable "visual_job_name" {
  description = "Name of the Glue Studio visual job the trigger Lambda may also start (null: none)."
  type        = string
  default     = null
}

variable "catalog_database" {
  description = "Glue Data Catalog database the refine job registers tables and partitions in."
  type        = string
}

variable "trigger_function_name" {
  description = "Name of the trigger Lambda (its log group and dead-letter queue are derived from it)."
  type        = string
}

variable "extract_function_name" {
  description = "Name of the extract Lambda (its log group and dead-letter queue are derived from it)."
  type        = string
}

variable "trigger_dlq_name" {
  description = "Name of the trigger Lambda's dead-letter SQS queue."
  type        = string
}

variable "extract_dlq_name" {
  description = "Name of the extract Lambda's dead-letter SQS queue."
  type        = string
}

variable "tags" {
  description = "Tags added to every role."
  type        = map(string)
  default     = {}
}
