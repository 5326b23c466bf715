variable "function_name" {
  description = "Name of the Lambda (also names its log group /aws/lambda/<function_name>)."
  type        = string
}

variable "description" {
  description = "Description of the Lambda."
  type        = string
}

variable "handler" {
  description = "Handler of the Lambda as module.function (e.g. b3lake.lambdas.trigger.handler)."
  type        = string
}

variable "role_arn" {
  description = "Execution role of the Lambda (logs, the DLQ and whatever the handler calls)."
  type        = string
}

variable "package_path" {
  description = "Path of the Lambda's zip built by scripts/package.py (dist/lambda/<name>.zip)."
  type        = string
}

variable "layer_arns" {
  description = "Lambda layers of the function (empty: none)."
  type        = list(string)
  default     = []
}

variable "runtime" {
  description = "Lambda runtime; b3lake targets Python 3.11 (layers must match it)."
  type        = string
  default     = "python3.11"
}

variable "memory_size" {
  description = "Memory of the Lambda in MB."
  type        = number
}

variable "timeout" {
  description = "Timeout of the Lambda in seconds."
  type        = number
}

variable "environment" {
  description = "Environment variables of the Lambda (the B3LAKE_* settings)."
  type        = map(string)
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
