variable "job_name" {
  description = "Name of the refine Glue job (B3LAKE_GLUE_JOB_NAME of the trigger)."
  type        = string
}

variable "role_arn" {
  description = "Role the Glue job runs as."
  type        = string
}

variable "scripts_bucket_id" {
  description = "Bucket the script and the wheel are uploaded to (under glue/)."
  type        = string
}

variable "script_path" {
  description = "Local path of the Glue entry script built by scripts/package.py (dist/glue/glue_refine.py)."
  type        = string
}

variable "script_key" {
  description = "Key of the Glue entry script in the scripts bucket."
  type        = string
  default     = "glue/glue_refine.py"
}

variable "wheel_path" {
  description = "Local path of the b3lake wheel (dist/b3lake-<version>-py3-none-any.whl)."
  type        = string
}

variable "extra_python_modules" {
  description = "pip requirements Glue installs next to the wheel (no commas inside one item: Glue splits the list on commas)."
  type        = list(string)
  default     = ["pydantic~=2.7", "pydantic-settings~=2.3", "exchange-calendars~=4.5"]

  validation {
    condition     = alltrue([for m in var.extra_python_modules : !strcontains(m, ",")])
    error_message = "An item of extra_python_modules may not contain a comma (use ~= or == specifiers)."
  }
}

variable "region" {
  description = "AWS region of the lake and the catalog, passed to the job as --aws_region."
  type        = string
}

variable "lake_uri" {
  description = "The lake (s3://bucket/prefix/), passed as --lake."
  type        = string
}

variable "catalog_database" {
  description = "Glue Data Catalog database, passed as --catalog_database."
  type        = string
}

variable "refine_arguments" {
  description = "The refine job's data-changing default arguments (--tpmerc, --codbdi, --tickers, --exclude_especi) as RefineArgs.to_arguments() encodes them (dist/manifest.json's refine_arguments, then the universe)."
  type        = map(string)
  default     = {}
}

variable "default_mode" {
  description = "Default --mode of a run (the trigger may override it per run)."
  type        = string
  default     = "incremental"

  validation {
    condition     = contains(["incremental", "full"], var.default_mode)
    error_message = "default_mode must be incremental or full."
  }
}

variable "glue_version" {
  description = "Glue version (5.0 = Spark 3.5, Python 3.11)."
  type        = string
  default     = "5.0"
}

variable "worker_type" {
  description = "Glue worker type (G.1X = 1 DPU per worker)."
  type        = string
  default     = "G.1X"
}

variable "number_of_workers" {
  description = "Number of Glue workers (2 is the minimum for G.1X)."
  type        = number
  default     = 2

  validation {
    condition     = var.number_of_workers >= 2
    error_message = "Glue Spark jobs need at least 2 workers."
  }
}

variable "max_concurrent_runs" {
  description = "How many runs of the job may execute at once. 1 (with queuing) serialises the refines, so two sessions of one month never race on the monthly partition."
  type        = number
  default     = 1
}

variable "job_run_queuing_enabled" {
  description = "Queue runs over max_concurrent_runs instead of rejecting them (ConcurrentRunsExceededException)."
  type        = bool
  default     = true
}

variable "timeout_minutes" {
  description = "Timeout of one job run in minutes."
  type        = number
  default     = 60
}

variable "max_retries" {
  description = "Retries of a failed run."
  type        = number
  default     = 0
}

variable "extra_default_arguments" {
  description = "More default arguments of the job (merged last, so they win)."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
