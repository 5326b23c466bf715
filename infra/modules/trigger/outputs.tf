output "function_name" {
  description = "Name of the trigger Lambda."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the trigger Lambda."
  value       = aws_lambda_function.this.arn
}

output "dlq_url" {
  description = "URL of the trigger's dead-letter queue (S3 events whose invocation failed twice)."
  value       = aws_sqs_queue.dlq.url
}

output "log_group_name" {
  description = "CloudWatch log group of the trigger Lambda."
  value       = aws_cloudwatch_log_group.this.name
}
