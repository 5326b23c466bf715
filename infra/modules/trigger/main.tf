# S3 ObjectCreated (raw/…parquet) -> trigger Lambda -> glue.start_job_run.

data "aws_caller_identity" "current" {}

module "function" {
  source = "../lambda_function"

  function_name                  = var.function_name
  description                    = "b3lake: starts the refine Glue job for each new raw object (S3 ObjectCreated)."
  handler                        = "b3lake.lambdas.trigger.handler"
  role_arn                       = var.role_arn
  package_path                   = var.package_path
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

# S3 invokes the trigger asynchronously. With a reserved concurrency of 1 (envs/dev), an event that
# finds the one copy busy is throttled, and Lambda's event queue retries it with backoff for up to
# maximum_event_age_in_seconds (6 hours, the maximum) before giving up to the dead-letter queue;
# a function error is retried twice. Said explicitly here rather than left to defaults.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = module.function.function_name
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds
  maximum_retry_attempts       = 2
}

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowS3Invoke"
  action         = "lambda:InvokeFunction"
  function_name  = module.function.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = var.lake_bucket_arn
  source_account = data.aws_caller_identity.current.account_id
}

# The only notification configuration of the lake bucket (S3 keeps one per bucket).
resource "aws_s3_bucket_notification" "raw" {
  bucket = var.lake_bucket_id

  lambda_function {
    id                  = "b3lake-raw-object-created"
    lambda_function_arn = module.function.function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.filter_prefix
    filter_suffix       = var.filter_suffix
  }

  depends_on = [aws_lambda_permission.s3]
}
