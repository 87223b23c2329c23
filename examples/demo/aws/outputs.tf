output "vpc_id" {
  value = aws_vpc.main.id
}

output "subnet_id" {
  value = aws_subnet.app.id
}

output "security_group_id" {
  value = aws_security_group.app.id
}

output "bucket" {
  value = aws_s3_bucket.artifacts.bucket
}

output "role_arn" {
  value = aws_iam_role.app.arn
}

output "queue_url" {
  value = aws_sqs_queue.jobs.url
}
