# S3 ObjectCreated (raw/…parquet) -> trigger Lambda -> glue.start_job_run.

data "aws_caller_identity" "current" {}

resource "aws_sqs_queue" "dlq" {
  name                      = var.dlq_name
  message_retention_seconds = 1209600 # 14 days, the SQS maximum
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  function_name = var.function_name
  description   = "b3lake: starts the refine Glue job for each new raw object (S3 ObjectCreated)."
  role          = var.role_arn
  runtime       = var.runtime
  handler       = "b3lake.lambdas.trigger.handler"
  architectures = ["x86_64"]
  memory_size   = var.memory_size
  timeout       = var.timeout

  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)

  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = var.environment
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.this]
}

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowS3Invoke"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = var.lake_bucket_arn
  source_account = data.aws_caller_identity.current.account_id
}

# The only notification configuration of the lake bucket (S3 keeps one per bucket).
resource "aws_s3_bucket_notification" "raw" {
  bucket = var.lake_bucket_id

  lambda_function {
    id                  = "b3lake-raw-object-created"
    lambda_function_arn = aws_lambda_function.this.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.filter_prefix
    filter_suffix       = var.filter_suffix
  }

  depends_on = [aws_lambda_permission.s3]
}
