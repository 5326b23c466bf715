variable "function_name" {
  description = "Name of the extract Lambda."
  type        = string
}

variable "role_arn" {
  description = "Execution role of the extract Lambda (needs read/write on the lake's raw/ prefix, logs, the DLQ)."
  type        = string
}

variable "scheduler_role_arn" {
  description = "Role EventBridge Scheduler assumes to invoke the Lambda (lambda:InvokeFunction on it, sqs:SendMessage on the DLQ)."
  type        = string
}

variable "package_path" {
  description = "Path of the extract zip built by scripts/package.py (dist/lambda/extract.zip)."
  type        = string
}

variable "layer_arns" {
  description = "Lambda layers of the extract function; the AWS SDK for pandas managed layer provides pyarrow, pandas and numpy."
  type        = list(string)
  default     = []
}

variable "runtime" {
  description = "Lambda runtime; b3lake targets Python 3.11 (the layer must match it)."
  type        = string
  default     = "python3.11"
}

variable "memory_size" {
  description = "Memory of the extract Lambda in MB (a COTAHIST day is parsed into Arrow in memory)."
  type        = number
  default     = 1024
}

variable "timeout" {
  description = "Timeout of the extract Lambda in seconds (download, parse, write)."
  type        = number
  default     = 300
}

variable "environment" {
  description = "Environment variables of the Lambda (the B3LAKE_* settings)."
  type        = map(string)
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression of the daily extract (evaluated in schedule_timezone)."
  type        = string
  default     = "cron(30 18 ? * MON-FRI *)"
}

variable "schedule_timezone" {
  description = "Time zone of schedule_expression (B3 trades in America/Sao_Paulo)."
  type        = string
  default     = "America/Sao_Paulo"
}

variable "schedule_enabled" {
  description = "Whether the daily schedule is ENABLED (false creates it DISABLED)."
  type        = bool
  default     = true
}

variable "schedule_payload" {
  description = "JSON the schedule passes to the handler as its event."
  type        = string
  default     = "{\"source\": \"b3lake.schedule\"}"
}

variable "dlq_name" {
  description = "Name of the SQS dead-letter queue for failed invocations (Lambda async and Scheduler)."
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
