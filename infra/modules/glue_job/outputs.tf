output "job_name" {
  description = "Name of the refine Glue job."
  value       = aws_glue_job.this.name
}

output "job_arn" {
  description = "ARN of the refine Glue job."
  value       = aws_glue_job.this.arn
}

output "script_s3_uri" {
  description = "Where the Glue entry script was uploaded."
  value       = "s3://${var.scripts_bucket_id}/${aws_s3_object.script.key}"
}

output "wheel_s3_uri" {
  description = "Where the b3lake wheel was uploaded."
  value       = "s3://${var.scripts_bucket_id}/${aws_s3_object.wheel.key}"
}

output "default_arguments" {
  description = "Default arguments of the job."
  value       = aws_glue_job.this.default_arguments
}
