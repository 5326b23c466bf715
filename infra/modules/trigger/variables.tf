variable "function_name" {
  description = "Name of the trigger Lambda."
  type        = string
}

variable "role_arn" {
  description = "Execution role of the trigger Lambda (needs glue:StartJobRun on the refine job, logs, the DLQ)."
  type        = string
}

variable "package_path" {
  description = "Path of the trigger zip built by scripts/package.py (dist/lambda/trigger.zip)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime; b3lake targets Python 3.11."
  type        = string
  default     = "python3.11"
}

variable "memory_size" {
  description = "Memory of the trigger Lambda in MB."
  type        = number
  default     = 256
}

variable "timeout" {
  description = "Timeout of the trigger Lambda in seconds."
  type        = number
  default     = 60
}

variable "environment" {
  description = "Environment variables of the Lambda (the B3LAKE_* settings)."
  type        = map(string)
}

variable "lake_bucket_id" {
  description = "Name of the lake bucket whose ObjectCreated events invoke the Lambda."
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket (source of the S3 invoke permission)."
  type        = string
}

variable "filter_prefix" {
  description = "Only objects under this key prefix fire the trigger (the lake's raw/ prefix)."
  type        = string
}

variable "filter_suffix" {
  description = "Only objects with this key suffix fire the trigger."
  type        = string
  default     = ".parquet"
}

variable "dlq_name" {
  description = "Name of the SQS dead-letter queue for failed asynchronous invocations."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the Lambda's CloudWatch log group in days."
  type        = number
  default     = 30
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the Lambda: Active or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of the Lambda; -1 = unreserved (new and lab accounts often cannot reserve any)."
  type        = number
  default     = -1
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}

variable "maximum_event_age_in_seconds" {
  description = "How long Lambda keeps retrying a throttled S3 event before the dead-letter queue (60 to 21600)."
  type        = number
  default     = 21600
}
