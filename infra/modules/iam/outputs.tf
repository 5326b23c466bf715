output "trigger_role_arn" {
  description = "ARN of the trigger Lambda's execution role."
  value       = aws_iam_role.trigger.arn
}

output "extract_role_arn" {
  description = "ARN of the extract Lambda's execution role."
  value       = aws_iam_role.extract.arn
}

output "glue_role_arn" {
  description = "ARN of the refine Glue job's role."
  value       = aws_iam_role.glue.arn
}

output "scheduler_role_arn" {
  description = "ARN of the role EventBridge Scheduler assumes to invoke the extract Lambda."
  value       = aws_iam_role.scheduler.arn
}
