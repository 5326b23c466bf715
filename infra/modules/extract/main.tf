# EventBridge Scheduler (weekdays after the B3 close) -> extract Lambda -> raw/<source>/dt=D-1/…parquet.

module "function" {
  source = "../lambda_function"

  function_name                  = var.function_name
  description                    = "b3lake: checks the B3 calendar and extracts the previous session into raw/."
  handler                        = "b3lake.lambdas.extract.handler"
  role_arn                       = var.role_arn
  package_path                   = var.package_path
  layer_arns                     = var.layer_arns
  runtime                        = var.runtime
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  environment                    = var.environment
  dlq_name                       = var.dlq_name
  log_retention_days             = var.log_retention_days
  tracing_mode                   = var.tracing_mode
  reserved_concurrent_executions = var.reserved_concurrent_executions
  tags                           = var.tags
}

# The Lambda, its log group and its DLQ moved into ../lambda_function: existing state follows them.
moved {
  from = aws_sqs_queue.dlq
  to   = module.function.aws_sqs_queue.dlq
}

moved {
  from = aws_cloudwatch_log_group.this
  to   = module.function.aws_cloudwatch_log_group.this
}

moved {
  from = aws_lambda_function.this
  to   = module.function.aws_lambda_function.this
}

resource "aws_scheduler_schedule" "daily" {
  name        = var.function_name
  description = "b3lake: daily extract on weekdays after the B3 close (the handler skips non-sessions)."
  state       = var.schedule_enabled ? "ENABLED" : "DISABLED"

  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.function.function_arn
    role_arn = var.scheduler_role_arn
    input    = var.schedule_payload

    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }

    dead_letter_config {
      arn = module.function.dlq_arn
    }
  }
}
