output "trigger_role_arn" {
  description = "ARN of the trigger Lambda's execution role."
  value       = aws_iam_role.trigger.arn
  # Whatever uses the role (a Lambda, the Glue job, the schedule) is created after its policy:
  # CreateFunction checks the role may send to the dead-letter queue.
  depends_on = [aws_iam_role_policy.trigger]
}

output "extract_role_arn" {
  description = "ARN of the extract Lambda's execution role."
  value       = aws_iam_role.extract.arn
  # Whatever uses the role (a Lambda, the Glue job, the schedule) is created after its policy:
  # CreateFunction checks the role may send to the dead-letter queue.
  depends_on = [aws_iam_role_policy.extract]
}

output "glue_role_arn" {
  description = "ARN of the refine Glue job's role."
  value       = aws_iam_role.glue.arn
  # Whatever uses the role (a Lambda, the Glue job, the schedule) is created after its policy:
  # CreateFunction checks the role may send to the dead-letter queue.
  depends_on = [aws_iam_role_policy.glue]
}

output "scheduler_role_arn" {
  description = "ARN of the role EventBridge Scheduler assumes to invoke the extract Lambda."
  value       = aws_iam_role.scheduler.arn
  # Whatever uses the role (a Lambda, the Glue job, the schedule) is created after its policy:
  # CreateFunction checks the role may send to the dead-letter queue.
  depends_on = [aws_iam_role_policy.scheduler]
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
