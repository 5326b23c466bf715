output "function_name" {
  description = "Name of the trigger Lambda."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the trigger Lambda."
  value       = module.function.function_arn
}

output "dlq_url" {
  description = "URL of the trigger's dead-letter queue (S3 events whose invocation failed twice)."
  value       = module.function.dlq_url
}

output "log_group_name" {
  description = "CloudWatch log group of the trigger Lambda."
  value       = module.function.log_group_name
}
