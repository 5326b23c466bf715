# b3lake dev environment: storage, roles, trigger and extract Lambdas, refine Glue job, catalog tables, Athena.
#
#   make package                                     # builds dist/ (manifest.json, wheel, zips, Glue script)
#   cp terraform.tfvars.example terraform.tfvars     # then edit
#   terraform init && terraform apply

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name

  tags = merge(
    {
      project     = var.project
      environment = var.environment
      managed-by  = "terraform"
    },
    var.tags,
  )

  # What scripts/package.py built (see its manifest.json).
  dist_dir = coalesce(var.dist_dir, abspath("${path.root}/../../../dist"))
  manifest = jsondecode(file("${local.dist_dir}/manifest.json"))

  lake_bucket_name           = coalesce(var.lake_bucket_name, "${local.name_prefix}-lake-${local.account_id}-${local.region}")
  scripts_bucket_name        = coalesce(var.scripts_bucket_name, "${local.name_prefix}-scripts-${local.account_id}-${local.region}")
  athena_results_bucket_name = coalesce(var.athena_results_bucket_name, "${local.name_prefix}-athena-${local.account_id}-${local.region}")

  glue_job_name         = coalesce(var.glue_job_name, "${local.name_prefix}-refine")
  visual_job_name       = coalesce(var.visual_job_name, "${local.name_prefix}-visual")
  athena_workgroup      = coalesce(var.athena_workgroup, local.name_prefix)
  trigger_function_name = "${local.name_prefix}-trigger"
  extract_function_name = "${local.name_prefix}-extract"
  trigger_dlq_name      = "${local.name_prefix}-trigger-dlq"
  extract_dlq_name      = "${local.name_prefix}-extract-dlq"

  roles = var.use_existing_roles ? {
    trigger   = var.existing_role_arn
    extract   = var.existing_role_arn
    glue      = var.existing_role_arn
    scheduler = var.existing_role_arn
    } : {
    trigger   = module.iam[0].trigger_role_arn
    extract   = module.iam[0].extract_role_arn
    glue      = module.iam[0].glue_role_arn
    scheduler = module.iam[0].scheduler_role_arn
  }

  # The settings every b3lake process on AWS reads (b3lake.settings.Settings, env prefix B3LAKE_).
  lambda_environment = {
    B3LAKE_BACKEND          = "aws"
    B3LAKE_LAKE             = module.lake_storage.lake_uri
    B3LAKE_GLUE_JOB_NAME    = local.glue_job_name
    B3LAKE_CATALOG_DATABASE = var.catalog_database
    B3LAKE_SOURCES          = jsonencode(var.sources)
    B3LAKE_ATHENA_WORKGROUP = local.athena_workgroup
    # Explicit, never guessed (b3lake.awsclients refuses to default one).
    B3LAKE_AWS_REGION = local.region
    # What the scheduled extract fetches besides quotes (settings index_levels, [corporate_actions]).
    B3LAKE_INDEX_LEVELS                            = jsonencode(var.index_levels)
    B3LAKE_CORPORATE_ACTIONS__ISSUERS              = jsonencode(var.corporate_actions.issuers)
    B3LAKE_CORPORATE_ACTIONS__BATCHES              = tostring(var.corporate_actions.batches)
    B3LAKE_CORPORATE_ACTIONS__MIN_INTERVAL_SECONDS = tostring(var.corporate_actions.min_interval_seconds)
  }

  # The [universe] of b3lake.toml (var.universe): the Lambdas read it as settings
  # (B3LAKE_UNIVERSE__*, JSON lists, as pydantic-settings reads them) and the trigger sends it with
  # every run; the Glue job's defaults carry it too (runs started from the console). An unset
  # list keeps the code's default (b3lake.jobs.refine.args.Universe). r6_tickers, the old name of
  # partitioned_tickers, becomes partitioned_tickers (check "universe_old_names" warns).
  universe = merge(
    var.universe.r6_tickers == null ? {} : { partitioned_tickers = var.universe.r6_tickers },
    { for k, v in var.universe : k => v if v != null && k != "r6_tickers" },
  )
  universe_environment = { for k, v in local.universe : "B3LAKE_UNIVERSE__${upper(k)}" => jsonencode(v) }
  # RefineArgs.to_arguments()'s encoding: comma-separated, an empty list as "none".
  universe_arguments = { for k, v in local.universe : "--${k}" => length(v) > 0 ? join(",", v) : "none" }
}

module "lake_storage" {
  source = "../../modules/lake_storage"

  lake_bucket_name           = local.lake_bucket_name
  scripts_bucket_name        = local.scripts_bucket_name
  athena_results_bucket_name = local.athena_results_bucket_name
  lake_prefix                = var.lake_prefix
  force_destroy              = var.force_destroy
}

module "iam" {
  source = "../../modules/iam"
  count  = var.use_existing_roles ? 0 : 1

  name_prefix           = local.name_prefix
  lake_bucket_arn       = module.lake_storage.lake_bucket_arn
  lake_prefix           = var.lake_prefix
  scripts_bucket_arn    = module.lake_storage.scripts_bucket_arn
  glue_job_name         = local.glue_job_name
  visual_job_name       = local.visual_job_name
  catalog_database      = var.catalog_database
  trigger_function_name = local.trigger_function_name
  extract_function_name = local.extract_function_name
  trigger_dlq_name      = local.trigger_dlq_name
  extract_dlq_name      = local.extract_dlq_name
}

module "glue_job" {
  source = "../../modules/glue_job"

  job_name          = local.glue_job_name
  role_arn          = local.roles.glue
  scripts_bucket_id = module.lake_storage.scripts_bucket_id
  script_path       = "${local.dist_dir}/${local.manifest.glue_script}"
  script_key        = local.manifest.glue_script
  wheel_path        = "${local.dist_dir}/${local.manifest.wheel}"
  # Exact pins resolved by scripts/package.py for Glue 5.0 with Glue's own modules as constraints
  # (none of them is replaced), then any the tfvars add.
  extra_python_modules = concat(try(local.manifest.glue_python_modules, []), var.glue_extra_python_modules)
  lake_uri             = module.lake_storage.lake_uri
  region               = local.region
  catalog_database     = module.catalog.database_name
  # The job's data-changing defaults as RefineArgs declares them (manifest), then the universe.
  refine_arguments    = merge(local.manifest.refine_arguments, local.universe_arguments)
  glue_version        = var.glue_version
  worker_type         = var.glue_worker_type
  number_of_workers   = var.glue_number_of_workers
  max_concurrent_runs = var.glue_max_concurrent_runs
  timeout_minutes     = var.glue_timeout_minutes
}

module "trigger" {
  source = "../../modules/trigger"

  function_name = local.trigger_function_name
  role_arn      = local.roles.trigger
  package_path  = "${local.dist_dir}/${local.manifest.lambda.trigger}"
  environment = merge(local.lambda_environment, local.universe_environment, {
    B3LAKE_GLUE_JOB_NAME = module.glue_job.job_name
    # Which job(s) a raw object starts; the visual job is deployed by `b3lake glue deploy-visual-job`.
    B3LAKE_TRIGGER_JOBS     = var.trigger_jobs
    B3LAKE_VISUAL__JOB_NAME = local.visual_job_name
  })
  lake_bucket_id     = module.lake_storage.lake_bucket_id
  lake_bucket_arn    = module.lake_storage.lake_bucket_arn
  filter_prefix      = "${var.lake_prefix}raw/"
  filter_suffix      = ".parquet"
  dlq_name           = local.trigger_dlq_name
  log_retention_days = var.log_retention_days
  tracing_mode       = var.lambda_tracing_mode
  # One copy at a time: each S3 event sees the run the previous one started (docs/deploy.md,
  # "Bursts: one trigger at a time"); -1 where the account cannot reserve any (lab accounts).
  reserved_concurrent_executions = var.trigger_reserved_concurrency
}

module "extract" {
  source = "../../modules/extract"

  function_name       = local.extract_function_name
  role_arn            = local.roles.extract
  scheduler_role_arn  = local.roles.scheduler
  package_path        = "${local.dist_dir}/${local.manifest.lambda.extract}"
  layer_arns          = [var.aws_sdk_pandas_layer_arn]
  environment         = merge(local.lambda_environment, local.universe_environment)
  memory_size         = var.extract_memory_size
  timeout             = var.extract_timeout
  schedule_expression = var.extract_schedule_expression
  schedule_timezone   = var.extract_schedule_timezone
  schedule_enabled    = var.extract_schedule_enabled
  dlq_name            = local.extract_dlq_name
  log_retention_days  = var.log_retention_days
  tracing_mode        = var.lambda_tracing_mode
}

module "catalog" {
  source = "../../modules/catalog"

  database_name   = var.catalog_database
  create_database = var.create_catalog_database
  manage_tables   = var.manage_catalog_tables
  tables          = local.manifest.tables
  lake_bucket_id  = module.lake_storage.lake_bucket_id
  lake_prefix     = var.lake_prefix
}

module "athena" {
  source = "../../modules/athena"

  workgroup_name    = local.athena_workgroup
  results_bucket_id = module.lake_storage.athena_results_bucket_id
  database_name     = module.catalog.database_name
  force_destroy     = var.force_destroy
}

# A deprecated name still works, and the plan says so (a warning, not an error).
check "universe_old_names" {
  assert {
    condition     = var.universe.r6_tickers == null
    error_message = "universe.r6_tickers is deprecated: it is universe.partitioned_tickers now (the old name still works, for now)."
  }
}
