# The refine job: entry script and b3lake wheel uploaded to the scripts bucket, Glue 5.0 job.

locals {
  wheel_key = "glue/${basename(var.wheel_path)}"

  # Arguments the entry script reads (RefineArgs in b3lake/jobs/refine/args.py): the data-changing ones
  # (var.refine_arguments, from the manifest and the universe), then where the lake and catalog are. The trigger
  # sends every one of them with each run as well, plus --dt/--raw_key/--run_date. tests/infra checks the names
  # against RefineArgs.deployment_names().
  job_arguments = merge(var.refine_arguments, {
    "--lake"             = var.lake_uri
    "--catalog_database" = var.catalog_database
    "--mode"             = var.default_mode
    # Read by the entry script (b3lake.jobs.glue_refine.job_region): the region is never guessed.
    "--aws_region" = var.region
  })

  # Glue's own special parameters.
  glue_arguments = {
    "--job-language"                     = "python"
    "--enable-glue-datacatalog"          = "true"
    "--additional-python-modules"        = join(",", concat(["s3://${var.scripts_bucket_id}/${local.wheel_key}"], var.extra_python_modules))
    "--TempDir"                          = "s3://${var.scripts_bucket_id}/glue/tmp/"
    "--enable-continuous-cloudwatch-log" = "true"
    "--enable-metrics"                   = "true"
    "--job-bookmark-option"              = "job-bookmark-disable"
  }

  default_arguments = merge(local.job_arguments, local.glue_arguments, var.extra_default_arguments)
}

resource "aws_s3_object" "script" {
  bucket                 = var.scripts_bucket_id
  key                    = var.script_key
  source                 = var.script_path
  etag                   = filemd5(var.script_path)
  content_type           = "text/x-python"
  server_side_encryption = "AES256"
  tags                   = var.tags
}

resource "aws_s3_object" "wheel" {
  bucket                 = var.scripts_bucket_id
  key                    = local.wheel_key
  source                 = var.wheel_path
  etag                   = filemd5(var.wheel_path)
  content_type           = "application/zip"
  server_side_encryption = "AES256"
  tags                   = var.tags
}

resource "aws_glue_security_configuration" "this" {
  name = var.job_name

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "DISABLED"
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "DISABLED"
    }
    s3_encryption {
      s3_encryption_mode = "SSE-S3"
    }
  }
}

resource "aws_glue_job" "this" {
  name                   = var.job_name
  description            = "b3lake refine: raw -> refined/quarantine, partitions registered in the Data Catalog."
  role_arn               = var.role_arn
  glue_version           = var.glue_version
  worker_type            = var.worker_type
  number_of_workers      = var.number_of_workers
  execution_class        = "STANDARD"
  timeout                = var.timeout_minutes
  max_retries            = var.max_retries
  security_configuration = aws_glue_security_configuration.this.name

  command {
    name            = "glueetl"
    script_location = "s3://${var.scripts_bucket_id}/${aws_s3_object.script.key}"
    python_version  = "3"
  }

  default_arguments = local.default_arguments

  # Runs over the limit wait in Glue's queue instead of failing with
  # ConcurrentRunsExceededException: no event is lost, and with one run at a time two sessions of
  # the same month never race to rewrite that month's partition.
  job_run_queuing_enabled = var.job_run_queuing_enabled

  execution_property {
    max_concurrent_runs = var.max_concurrent_runs
  }

  tags = var.tags

  # A new wheel must be in place before runs pick up the new job definition.
  depends_on = [aws_s3_object.wheel]
}
