# Least-privilege roles: one per Lambda, one for the Glue job, one for EventBridge Scheduler.
# Every ARN is derived from names, so this module does not depend on the resources that use the roles.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  lake_objects = {
    raw        = "${var.lake_bucket_arn}/${var.lake_prefix}raw/*"
    refined    = "${var.lake_bucket_arn}/${var.lake_prefix}refined/*"
    quarantine = "${var.lake_bucket_arn}/${var.lake_prefix}quarantine/*"
    system     = "${var.lake_bucket_arn}/${var.lake_prefix}_b3lake/*"
  }

  glue_job_arn = "arn:${local.partition}:glue:${local.region}:${local.account}:job/${var.glue_job_name}"
  # The visual job runs as the refine job's role (same reads and writes: raw/, refined/, the catalog).
  visual_job_arn = var.visual_job_name == null ? null : "arn:${local.partition}:glue:${local.region}:${local.account}:job/${var.visual_job_name}"
  catalog_arns = [
    "arn:${local.partition}:glue:${local.region}:${local.account}:catalog",
    "arn:${local.partition}:glue:${local.region}:${local.account}:database/${var.catalog_database}",
    "arn:${local.partition}:glue:${local.region}:${local.account}:table/${var.catalog_database}/*",
  ]
  # The extract Lambda registers the raw tables only (raw_cotahist, raw_ibov_portfolio, ...).
  raw_catalog_arns = [
    "arn:${local.partition}:glue:${local.region}:${local.account}:catalog",
    "arn:${local.partition}:glue:${local.region}:${local.account}:database/${var.catalog_database}",
    "arn:${local.partition}:glue:${local.region}:${local.account}:table/${var.catalog_database}/raw_*",
  ]
  manifest_prefix = "${var.lake_prefix}_b3lake/manifest/"

  lambda_log_group_arn = {
    for key, name in {
      trigger = var.trigger_function_name
      extract = var.extract_function_name
    } : key => "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${name}"
  }
  dlq_arn = {
    trigger = "arn:${local.partition}:sqs:${local.region}:${local.account}:${var.trigger_dlq_name}"
    extract = "arn:${local.partition}:sqs:${local.region}:${local.account}:${var.extract_dlq_name}"
  }
  extract_function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${var.extract_function_name}"
}

# ---------------------------------------------------------------------------------------------------------------------
# Trust policies
# ---------------------------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "assume" {
  for_each = {
    lambda    = "lambda.amazonaws.com"
    glue      = "glue.amazonaws.com"
    scheduler = "scheduler.amazonaws.com"
  }

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value]
    }
    dynamic "condition" {
      # Confused-deputy guard: only this account's resources may use the role.
      for_each = each.key == "lambda" ? [] : [local.account]
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [condition.value]
      }
    }
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# Shared by both Lambdas: logs, X-Ray, dead-letter queue
# ---------------------------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "lambda_base" {
  for_each = local.lambda_log_group_arn

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${each.value}:*"]
  }

  statement {
    sid = "XRay"
    # X-Ray write actions support no resource-level permissions.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "DeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [local.dlq_arn[each.key]]
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# Trigger Lambda: start the refine job, read the raw manifest, nothing else
# (every action here is one tests/aws/test_iam_permissions.py sees the trigger use)
# ---------------------------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "trigger" {
  source_policy_documents = [data.aws_iam_policy_document.lambda_base["trigger"].json]

  # GetJobRuns: is a run of the job still WAITING (it will refine this object too)?
  statement {
    sid       = "StartRefineJob"
    actions   = ["glue:StartJobRun", "glue:GetJobRuns"]
    resources = compact([local.glue_job_arn, local.visual_job_arn])
  }

  # The raw manifest (what the refined layer consumed): a duplicate event starts no run.
  statement {
    sid       = "ReadRawManifest"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/${local.manifest_prefix}*"]
  }

  # A shard not written yet answers 403 (no unconditioned ListBucket); listing exactly that key
  # tells "missing" from "refused" (b3lake.storage.s3). Only under the manifest's prefix.
  statement {
    sid       = "ListRawManifest"
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.manifest_prefix}*"]
    }
  }
}

resource "aws_iam_role" "trigger" {
  name               = "${var.name_prefix}-trigger"
  description        = "b3lake trigger Lambda: starts the refine Glue job for new raw objects."
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "trigger" {
  name   = "trigger"
  role   = aws_iam_role.trigger.id
  policy = data.aws_iam_policy_document.trigger.json
}

# ---------------------------------------------------------------------------------------------------------------------
# Extract Lambda: write raw objects (read them back to compare content hashes), register the raw
# tables and their partitions in the catalog (lake/raw_writer.py)
# ---------------------------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "extract" {
  source_policy_documents = [data.aws_iam_policy_document.lambda_base["extract"].json]

  # A raw key not written yet answers 403 without an unconditioned ListBucket; listing exactly
  # that key tells "missing" from "refused" (b3lake.storage.s3). Only under raw/.
  statement {
    sid       = "ListRaw"
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.lake_prefix}raw/*"]
    }
  }

  statement {
    sid       = "ReadWriteRaw"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [local.lake_objects.raw]
  }

  statement {
    sid = "RegisterRawTables"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:BatchCreatePartition",
    ]
    resources = local.raw_catalog_arns
  }
}

resource "aws_iam_role" "extract" {
  name               = "${var.name_prefix}-extract"
  description        = "b3lake extract Lambda: writes the day's raw objects to the lake."
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "extract" {
  name   = "extract"
  role   = aws_iam_role.extract.id
  policy = data.aws_iam_policy_document.extract.json
}

# ---------------------------------------------------------------------------------------------------------------------
# Glue refine job: read raw, write refined/quarantine, register tables and partitions, read its own code
# ---------------------------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "glue" {
  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.lake_bucket_arn, var.scripts_bucket_arn]
  }

  statement {
    sid       = "ReadRaw"
    actions   = ["s3:GetObject"]
    resources = [local.lake_objects.raw]
  }

  statement {
    sid       = "WriteRefined"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.lake_objects.refined, local.lake_objects.quarantine, local.lake_objects.system]
  }

  statement {
    sid       = "ReadCode"
    actions   = ["s3:GetObject"]
    resources = ["${var.scripts_bucket_arn}/glue/*"]
  }

  statement {
    sid       = "TemporaryFiles"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.scripts_bucket_arn}/glue/tmp/*"]
  }

  # What b3lake.catalog.glue.GlueCatalog calls (the refine job), which is also what the visual
  # job's S3 target needs to create its table and add partitions. Databases are Terraform's.
  statement {
    sid = "Catalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartitions",
      "glue:BatchCreatePartition",
      "glue:BatchDeletePartition",
    ]
    resources = local.catalog_arns
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws-glue/*"]
  }

  statement {
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }
}

resource "aws_iam_role" "glue" {
  name               = "${var.name_prefix}-glue-refine"
  description        = "b3lake refine Glue job."
  assume_role_policy = data.aws_iam_policy_document.assume["glue"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "glue" {
  name   = "refine"
  role   = aws_iam_role.glue.id
  policy = data.aws_iam_policy_document.glue.json
}

# ---------------------------------------------------------------------------------------------------------------------
# EventBridge Scheduler: invoke the extract Lambda
# ---------------------------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeExtract"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.extract_function_arn, "${local.extract_function_arn}:*"]
  }

  statement {
    sid       = "DeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [local.dlq_arn.extract]
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-scheduler"
  description        = "EventBridge Scheduler: runs the b3lake extract Lambda after the B3 close."
  assume_role_policy = data.aws_iam_policy_document.assume["scheduler"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
