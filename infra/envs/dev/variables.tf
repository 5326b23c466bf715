# ---------------------------------------------------------------------------------------------------------------------
# Where and what
# ---------------------------------------------------------------------------------------------------------------------
variable "region" {
  description = "AWS region to deploy to (e.g. sa-east-1, us-east-1)."
  type        = string
}

variable "project" {
  description = "Project name, first part of every resource name."
  type        = string
  default     = "b3lake"
}

variable "environment" {
  description = "Environment name, second part of every resource name."
  type        = string
  default     = "dev"
}

variable "tags" {
  description = "Extra tags for every resource (added to project/environment/managed-by)."
  type        = map(string)
  default     = {}
}

variable "dist_dir" {
  description = "Folder with the build of scripts/package.py (manifest.json, wheel, zips, Glue script). null = <repo>/dist."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------------------------------------------------
variable "lake_bucket_name" {
  description = "Name of the lake bucket; null = <project>-<environment>-lake-<account id>-<region>."
  type        = string
  default     = null
}

variable "scripts_bucket_name" {
  description = "Name of the scripts bucket; null = <project>-<environment>-scripts-<account id>-<region>."
  type        = string
  default     = null
}

variable "athena_results_bucket_name" {
  description = "Name of the Athena results bucket; null = <project>-<environment>-athena-<account id>-<region>."
  type        = string
  default     = null
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside its bucket: \"\" (root) or a relative path ending in \"/\"."
  type        = string
  default     = ""
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets and the Athena workgroup's history (throw-away environments only)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------------------------------
# Lab accounts (e.g. AWS Academy): no IAM creation, one existing role for everything
# ---------------------------------------------------------------------------------------------------------------------
variable "use_existing_roles" {
  description = "Create no IAM role or policy; use existing_role_arn for both Lambdas, the Glue job and the scheduler (AWS Academy: LabRole)."
  type        = bool
  default     = false
}

variable "existing_role_arn" {
  description = "ARN of the role used everywhere when use_existing_roles = true (e.g. arn:aws:iam::<account>:role/LabRole)."
  type        = string
  default     = null

  validation {
    condition     = !var.use_existing_roles || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.existing_role_arn))
    error_message = "use_existing_roles = true needs existing_role_arn = \"arn:aws:iam::<account id>:role/<name>\"."
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# Pipeline settings (become B3LAKE_* variables of the Lambdas and arguments of the job)
# ---------------------------------------------------------------------------------------------------------------------
variable "catalog_database" {
  description = "Glue Data Catalog database of the refined tables (B3LAKE_CATALOG_DATABASE)."
  type        = string
  default     = "default"
}

variable "create_catalog_database" {
  description = "Create catalog_database. Leave false if it exists (check: aws glue get-database --name default)."
  type        = bool
  default     = false
}

variable "manage_catalog_tables" {
  description = "Define the refined tables in Terraform (false: the refine job creates them on its first write)."
  type        = bool
  default     = true
}

variable "universe" {
  description = "The [universe] section of b3lake.toml: which COTAHIST records the refine keeps (tpmerc, codbdi, tickers, exclude_especi) and which tickers get dt x ticker partitions in refined_quotes (partitioned_tickers; empty = the whole universe); an unset list keeps the default. Reaches the Lambdas' settings, every run the trigger starts and the Glue job's defaults. r6_tickers is partitioned_tickers' old name: still read, with a warning."
  type = object({
    tpmerc              = optional(list(string))
    codbdi              = optional(list(string))
    tickers             = optional(list(string))
    exclude_especi      = optional(list(string))
    partitioned_tickers = optional(list(string))
    r6_tickers          = optional(list(string)) # deprecated: partitioned_tickers
  })
  default = {}

  validation {
    condition     = var.universe.r6_tickers == null || var.universe.partitioned_tickers == null || var.universe.r6_tickers == var.universe.partitioned_tickers
    error_message = "universe.r6_tickers is the old name of universe.partitioned_tickers and differs from it: set partitioned_tickers only."
  }
}

variable "index_levels" {
  description = "Indices whose daily closes the index_levels source fetches (settings index_levels, B3LAKE_INDEX_LEVELS)."
  type        = list(string)
  default     = ["IBOV"]
}

variable "corporate_actions" {
  description = "The [corporate_actions] settings: issuers to ask B3 about (empty = every issuer of the landed tickers), batches (each issuer asked once every N sessions: ~300 issuers at ~2 requests each would take ~5 minutes, past the extract Lambda's budget) and the seconds between two requests."
  type = object({
    issuers              = optional(list(string), [])
    batches              = optional(number, 5)
    min_interval_seconds = optional(number, 0.5)
  })
  default = {}

  validation {
    condition     = var.corporate_actions.batches >= 1 && var.corporate_actions.min_interval_seconds >= 0
    error_message = "corporate_actions.batches must be >= 1 and min_interval_seconds >= 0."
  }
}

variable "sources" {
  description = "Sources the extract Lambda pulls each session (B3LAKE_SOURCES)."
  type        = list(string)
  default     = ["cotahist"]

  validation {
    # The names the packaged code registers (b3lake.sources.registry, through dist/manifest.json):
    # a new source needs no edit here.
    condition     = length(var.sources) > 0 && alltrue([for s in var.sources : contains(local.manifest.sources, s)])
    error_message = "sources must be a non-empty list of the sources the packaged code registers (dist/manifest.json's sources: cotahist, ibov, yfinance, corporate_actions for the built-in ones)."
  }
}

variable "glue_job_name" {
  description = "Name of the refine Glue job (B3LAKE_GLUE_JOB_NAME); null = <project>-<environment>-refine."
  type        = string
  default     = null
}

variable "athena_workgroup" {
  description = "Name of the Athena workgroup (B3LAKE_ATHENA_WORKGROUP); null = <project>-<environment>."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------------------------------
# Glue job
# ---------------------------------------------------------------------------------------------------------------------
variable "glue_version" {
  description = "Glue version of the refine job."
  type        = string
  default     = "5.0"
}

variable "glue_worker_type" {
  description = "Glue worker type (G.1X = 1 DPU, 4 vCPU, 16 GB)."
  type        = string
  default     = "G.1X"
}

variable "glue_number_of_workers" {
  description = "Glue workers per run (2 is the minimum; a daily incremental run needs no more)."
  type        = number
  default     = 2
}

variable "glue_max_concurrent_runs" {
  description = "Runs of the refine job allowed at once; more are queued by Glue. 1 keeps the monthly partition free of races."
  type        = number
  default     = 1
}

variable "glue_timeout_minutes" {
  description = "Timeout of one refine run in minutes."
  type        = number
  default     = 60
}

variable "glue_extra_python_modules" {
  description = "More pip requirements for the Glue job, after the ones dist/manifest.json pins (glue_python_modules: what the b3lake wheel needs beyond Glue 5.0's own modules). Pin them (name==version) and never to another version of a module Glue 5.0 provides (scripts/glue-5.0-provided-modules.txt)."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------------------------------------------------
# Lambdas
# ---------------------------------------------------------------------------------------------------------------------
variable "aws_sdk_pandas_layer_arn" {
  description = "ARN (with version) of the AWS SDK for pandas managed layer for Python 3.11 x86_64 in your region (pyarrow, pandas, numpy for the extract Lambda); see https://aws-sdk-pandas.readthedocs.io/en/stable/layers.html."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.aws_sdk_pandas_layer_arn))
    error_message = "aws_sdk_pandas_layer_arn must be a layer version ARN, e.g. arn:aws:lambda:<region>:336392948345:layer:AWSSDKPandas-Python311:<version>."
  }
}

variable "extract_memory_size" {
  description = "Memory of the extract Lambda in MB."
  type        = number
  default     = 1024
}

variable "extract_timeout" {
  description = "Timeout of the extract Lambda in seconds (Lambda's maximum, 900: a session's corporate actions batch is ~60 issuers at B3's pace, and pesquisapregao answers in ~20 s; a run is billed for what it uses, not for the cap)."
  type        = number
  default     = 900

  validation {
    condition     = var.extract_timeout >= 60 && var.extract_timeout <= 900
    error_message = "extract_timeout must be between 60 and 900 seconds (Lambda's maximum)."
  }
}

variable "extract_schedule_expression" {
  description = "When the extract runs, in extract_schedule_timezone (default: weekdays 18:30 in São Paulo, after the B3 close)."
  type        = string
  default     = "cron(30 18 ? * MON-FRI *)"
}

variable "extract_schedule_timezone" {
  description = "Time zone of extract_schedule_expression."
  type        = string
  default     = "America/Sao_Paulo"
}

variable "extract_schedule_enabled" {
  description = "Whether the daily extract schedule is enabled."
  type        = bool
  default     = true
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing of both Lambdas: Active or PassThrough."
  type        = string
  default     = "Active"
}

variable "trigger_reserved_concurrency" {
  description = "Reserved concurrency of the trigger Lambda: 1 serialises a burst of S3 events so they coalesce into one Glue run; -1 = unreserved (accounts whose concurrency limit is 10, e.g. AWS Academy, cannot reserve any)."
  type        = number
  default     = 1

  validation {
    condition     = var.trigger_reserved_concurrency == -1 || var.trigger_reserved_concurrency >= 1
    error_message = "trigger_reserved_concurrency must be -1 (unreserved) or at least 1."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambdas' log groups in days."
  type        = number
  default     = 30
}

variable "trigger_jobs" {
  description = "Which Glue job a new raw object starts: script (the refine job), visual (the Glue Studio job, deployed after apply by `b3lake glue deploy-visual-job`) or both."
  type        = string
  default     = "script"

  validation {
    condition     = contains(["script", "visual", "both"], var.trigger_jobs)
    error_message = "trigger_jobs must be script, visual or both."
  }
}

variable "visual_job_name" {
  description = "Name of the Glue Studio visual job (default <project>-<environment>-visual); the trigger may start it."
  type        = string
  default     = null
}
