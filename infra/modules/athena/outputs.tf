output "workgroup_name" {
  description = "Name of the Athena workgroup."
  value       = aws_athena_workgroup.this.name
}

output "results_location" {
  description = "Where the workgroup writes query results."
  value       = "s3://${var.results_bucket_id}/results/"
}

output "named_query_ids" {
  description = "Ids of the named queries, by short name."
  value       = { for k, q in aws_athena_named_query.this : k => q.id }
}
