output "hostnames" {
  description = "Hostname of each service"
  value       = { for k, m in module.service : k => m.hostname }
}

output "config_files" {
  value = [for m in module.service : m.config_file]
}

output "db_password" {
  value     = random_password.db.result
  sensitive = true
}
