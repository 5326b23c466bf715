# The refined tables in the Glue Data Catalog. Partitions are added by the refine job at write time
# (batch_create_partition), so Athena never needs MSCK REPAIR TABLE.
# The tables (names, locations, partition keys, columns) are not written here: they come from the
# table specs in src/b3lake/tables/ through dist/manifest.json (scripts/package.py writes it,
# infra/envs/dev passes its "tables" in). tests/infra compares this module's tables with the specs.

locals {
  # The layers Terraform defines up front (quarantine tables are created by the job's first write).
  tables = { for name, t in var.tables : name => t if contains(var.layers, t.layer) }

  database_name = var.create_database ? aws_glue_catalog_database.this[0].name : var.database_name
}

resource "aws_glue_catalog_database" "this" {
  count = var.create_database ? 1 : 0

  name        = var.database_name
  description = "b3lake refined tables."
  tags        = var.tags
}

resource "aws_glue_catalog_table" "refined" {
  for_each = var.manage_tables ? local.tables : {}

  name          = each.key
  database_name = local.database_name
  description   = each.value.description
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    EXTERNAL              = "TRUE"
    classification        = "parquet"
    "parquet.compression" = "SNAPPY"
  }

  dynamic "partition_keys" {
    for_each = each.value.partition_keys
    content {
      name = partition_keys.value.name
      type = partition_keys.value.type
    }
  }

  storage_descriptor {
    location      = "s3://${var.lake_bucket_id}/${var.lake_prefix}${each.value.location}"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = "parquet"
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters = {
        "serialization.format" = "1"
      }
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }

  # Glue and the refine job may add table parameters (statistics, DDL timestamps); do not fight them.
  lifecycle {
    ignore_changes = [parameters]
  }
}
