output "database_name" {
  description = "Glue Data Catalog database of the refined tables."
  value       = local.database_name
}

output "table_names" {
  description = "Names of the refined tables."
  value       = sort([for t in aws_glue_catalog_table.refined : t.name])
}

output "table_locations" {
  description = "S3 location of each refined table."
  value       = { for name, t in aws_glue_catalog_table.refined : name => t.storage_descriptor[0].location }
}
