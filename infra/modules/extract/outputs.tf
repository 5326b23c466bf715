output "function_name" {
  description = "Name of the extract Lambda."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the extract Lambda."
  value       = module.function.function_arn
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule that runs the extract."
  value       = aws_scheduler_schedule.daily.name
}

output "dlq_url" {
  description = "URL of the extract's dead-letter queue."
  value       = module.function.dlq_url
}

output "log_group_name" {
  description = "CloudWatch log group of the extract Lambda."
  value       = module.function.log_group_name
}
