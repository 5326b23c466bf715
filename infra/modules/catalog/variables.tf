variable "database_name" {
  description = "Glue Data Catalog database of the refined tables (Glue's \"default\" unless changed)."
  type        = string
  default     = "default"
}

variable "create_database" {
  description = "Create the database. Leave false when it exists already (Glue/Athena create \"default\" on first use; check with `aws glue get-database --name default`)."
  type        = bool
  default     = false
}

variable "manage_tables" {
  description = "Define the refined tables here (false: the refine job creates them on its first write)."
  type        = bool
  default     = true
}

variable "lake_bucket_id" {
  description = "Name of the lake bucket."
  type        = string
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside the lake bucket (\"\" or ending in \"/\")."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags of the database when this module creates it."
  type        = map(string)
  default     = {}
}

variable "tables" {
  description = "The lake's tables by catalog name, as dist/manifest.json carries them (\"tables\", from the specs in src/b3lake/tables/)."
  type = map(object({
    layer          = string
    prefix         = string
    location       = string
    description    = string
    partition_keys = list(object({ name = string, type = string }))
    columns        = list(object({ name = string, type = string }))
  }))
}

variable "layers" {
  description = "Which layers of var.tables to define (the refine job creates the others on its first write)."
  type        = list(string)
  default     = ["refined"]
}
