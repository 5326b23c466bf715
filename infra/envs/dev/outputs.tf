output "lake_uri" {
  description = "The lake (B3LAKE_LAKE / --lake)."
  value       = module.lake_storage.lake_uri
}

output "lake_bucket" {
  description = "Name of the lake bucket."
  value       = module.lake_storage.lake_bucket_id
}

output "scripts_bucket" {
  description = "Name of the scripts bucket (Glue script and wheel under glue/)."
  value       = module.lake_storage.scripts_bucket_id
}

output "athena_results_bucket" {
  description = "Name of the Athena results bucket."
  value       = module.lake_storage.athena_results_bucket_id
}

output "glue_job_name" {
  description = "Name of the refine Glue job."
  value       = module.glue_job.job_name
}

output "trigger_function_name" {
  description = "Name of the trigger Lambda."
  value       = module.trigger.function_name
}

output "extract_function_name" {
  description = "Name of the extract Lambda."
  value       = module.extract.function_name
}

output "athena_workgroup" {
  description = "Name of the Athena workgroup."
  value       = module.athena.workgroup_name
}

output "catalog_database" {
  description = "Glue Data Catalog database of the refined tables."
  value       = module.catalog.database_name
}

output "b3lake_environment" {
  description = "Environment for running the b3lake CLI against this deployment (paste into your shell)."
  value       = <<-EOT
    export B3LAKE_BACKEND=aws
    export B3LAKE_AWS_REGION=${local.region}
    export B3LAKE_LAKE=${module.lake_storage.lake_uri}
    export B3LAKE_GLUE_JOB_NAME=${module.glue_job.job_name}
    export B3LAKE_CATALOG_DATABASE=${module.catalog.database_name}
    export B3LAKE_ATHENA_WORKGROUP=${module.athena.workgroup_name}
    export B3LAKE_VISUAL__JOB_NAME=${local.visual_job_name}
    export B3LAKE_VISUAL__ROLE_ARN=${local.roles.glue}
    export B3LAKE_VISUAL__SCRIPT_LOCATION=s3://${module.lake_storage.scripts_bucket_id}/glue/visual/${local.visual_job_name}.py
  EOT
}

output "next_steps" {
  description = "What to run after apply."
  value       = <<-EOT
    1. Load the settings into your shell (B3LAKE_BACKEND=aws, B3LAKE_LAKE, ...):
         eval "$(terraform output -raw b3lake_environment)"
    2. First data, any of:
       - extract one session into the lake; its S3 event starts the refine job:
           b3lake extract cotahist --date <YYYY-MM-DD>
       - run the scheduled extract now (last completed B3 session):
           aws lambda invoke --region ${local.region} --function-name ${module.extract.function_name} --payload '{}' --cli-binary-format raw-in-base64-out /dev/stdout
       - or wait for the schedule: ${var.extract_schedule_expression} (${var.extract_schedule_timezone}).
    3. Watch the refine job:
           aws glue get-job-runs --region ${local.region} --job-name ${module.glue_job.job_name} --max-items 5
    4. Query (Athena, workgroup ${module.athena.workgroup_name}; saved queries b3lake-*):
           b3lake query "SELECT dt, ticker, close, ma_21 FROM refined_quotes ORDER BY dt DESC LIMIT 10"
    5. The Glue Studio visual job (R5; Terraform cannot express its DAG), after step 1:
           b3lake glue deploy-visual-job
    Failed S3 events land in ${module.trigger.dlq_url}
  EOT
}
