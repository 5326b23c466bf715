output "function_name" {
  description = "Name of the Lambda."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda."
  value       = aws_lambda_function.this.arn
}

output "dlq_arn" {
  description = "ARN of the Lambda's dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  description = "URL of the Lambda's dead-letter queue."
  value       = aws_sqs_queue.dlq.url
}

output "log_group_name" {
  description = "CloudWatch log group of the Lambda."
  value       = aws_cloudwatch_log_group.this.name
}
