output "lake_bucket_id" {
  description = "Name of the data-lake bucket."
  value       = aws_s3_bucket.this["lake"].id
}

output "lake_bucket_arn" {
  description = "ARN of the data-lake bucket."
  value       = aws_s3_bucket.this["lake"].arn
}

output "lake_uri" {
  description = "The lake as b3lake expects it in B3LAKE_LAKE / --lake (s3://bucket/ plus the prefix)."
  value       = "s3://${aws_s3_bucket.this["lake"].id}/${var.lake_prefix}"
}

output "lake_prefix" {
  description = "Key prefix of the lake inside the lake bucket (\"\" or ending in \"/\")."
  value       = var.lake_prefix
}

output "scripts_bucket_id" {
  description = "Name of the scripts bucket (Glue script, wheel, Glue temporary files)."
  value       = aws_s3_bucket.this["scripts"].id
}

output "scripts_bucket_arn" {
  description = "ARN of the scripts bucket."
  value       = aws_s3_bucket.this["scripts"].arn
}

output "athena_results_bucket_id" {
  description = "Name of the Athena results bucket."
  value       = aws_s3_bucket.this["athena_results"].id
}

output "athena_results_bucket_arn" {
  description = "ARN of the Athena results bucket."
  value       = aws_s3_bucket.this["athena_results"].arn
}
