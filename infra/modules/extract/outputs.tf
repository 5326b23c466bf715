output "function_name" {
  description = "Name of the extract Lambda."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the extract Lambda."
  value       = aws_lambda_function.this.arn
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule that runs the extract."
  value       = aws_scheduler_schedule.daily.name
}

output "dlq_url" {
  description = "URL of the extract's dead-letter queue."
  value       = aws_sqs_queue.dlq.url
}

output "log_group_name" {
  description = "CloudWatch log group of the extract Lambda."
  value       = aws_cloudwatch_log_group.this.name
}
