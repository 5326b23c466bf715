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

output "policies" {
  description = "The inline policy and the trust policy of each role, as JSON (tests/aws/iam evaluates every recorded AWS call against them)."
  value = {
    for key, doc in {
      trigger   = data.aws_iam_policy_document.trigger
      extract   = data.aws_iam_policy_document.extract
      glue      = data.aws_iam_policy_document.glue
      scheduler = data.aws_iam_policy_document.scheduler
      } : key => {
      role   = "${var.name_prefix}-${key == "glue" ? "glue-refine" : key}"
      policy = doc.json
      trust  = data.aws_iam_policy_document.assume[key == "trigger" || key == "extract" ? "lambda" : key].json
    }
  }
}
