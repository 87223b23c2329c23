#!/usr/bin/env python3
"""Writes N Terraform files (one module) of AWS resources, about half of
them misconfigured, for the misconfiguration benchmark.

usage: gen.py OUT_DIR [N]   (N defaults to 1000)
"""
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
rnd = random.Random(7)
os.makedirs(out, exist_ok=True)
for f in os.listdir(out):
    if f.endswith(".tf"):
        os.remove(os.path.join(out, f))

with open(os.path.join(out, "variables.tf"), "w") as fh:
    fh.write('''variable "env" {
  type    = string
  default = "prod"
}

variable "admin_cidr" {
  type    = string
  default = "0.0.0.0/0"
}

variable "kms_key_arn" {
  type    = string
  default = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

locals {
  tags = {
    env   = var.env
    owner = "platform"
  }
  private_cidrs = ["10.0.0.0/8", "172.16.0.0/12"]
}
''')


def s3(i, bad):
    acl = "public-read" if bad else "private"
    body = f'''resource "aws_s3_bucket" "b{i}" {{
  bucket = "bench-${{var.env}}-{i}"
  tags   = local.tags
}}

resource "aws_s3_bucket_acl" "b{i}" {{
  bucket = aws_s3_bucket.b{i}.id
  acl    = "{acl}"
}}
'''
    if not bad:
        body += f'''
resource "aws_s3_bucket_versioning" "b{i}" {{
  bucket = aws_s3_bucket.b{i}.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}

resource "aws_s3_bucket_server_side_encryption_configuration" "b{i}" {{
  bucket = aws_s3_bucket.b{i}.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }}
  }}
}}

resource "aws_s3_bucket_public_access_block" "b{i}" {{
  bucket                  = aws_s3_bucket.b{i}.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}}
'''
    return body


def sg(i, bad):
    cidr = "[var.admin_cidr]" if bad else "local.private_cidrs"
    port = rnd.choice([22, 3389, 5432, 443])
    return f'''resource "aws_security_group" "sg{i}" {{
  name        = "sg-{i}"
  description = "service {i}"
  vpc_id      = "vpc-0123456789abcdef0"

  ingress {{
    description = "admin"
    from_port   = {port}
    to_port     = {port}
    protocol    = "tcp"
    cidr_blocks = {cidr}
  }}

  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}

  tags = local.tags
}}
'''


def iam(i, bad):
    action = '"*"' if bad else '"s3:GetObject", "s3:ListBucket"'
    doc_action = '"s3:*"' if bad else '"sqs:SendMessage"'
    resource = '"*"' if bad else f'"arn:aws:s3:::bench-prod-{i}/*"'
    return f'''resource "aws_iam_policy" "p{i}" {{
  name = "policy-{i}"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = [{action}]
      Resource = {resource}
    }}]
  }})
}}

data "aws_iam_policy_document" "d{i}" {{
  statement {{
    actions   = [{doc_action}]
    resources = ["arn:aws:s3:::bench-{i}"]
  }}
}}
'''


def ec2(i, bad):
    tokens = "optional" if bad else "required"
    enc = "false" if bad else "true"
    return f'''resource "aws_instance" "i{i}" {{
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  monitoring    = true
  ebs_optimized = true

  metadata_options {{
    http_endpoint = "enabled"
    http_tokens   = "{tokens}"
  }}

  root_block_device {{
    encrypted = {enc}
  }}

  tags = merge(local.tags, {{ Name = "i-{i}" }})
}}

resource "aws_ebs_volume" "v{i}" {{
  availability_zone = "us-east-1a"
  size              = 20
  encrypted         = {enc}
}}
'''


def rds(i, bad):
    return f'''resource "aws_db_instance" "db{i}" {{
  identifier          = "db-{i}"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  storage_encrypted   = {"false" if bad else "true"}
  publicly_accessible = {"true" if bad else "false"}
  kms_key_id          = var.kms_key_arn
  tags                = local.tags
}}
'''


def misc(i, bad):
    return f'''resource "aws_kms_key" "k{i}" {{
  description         = "key {i}"
  enable_key_rotation = {"false" if bad else "true"}
}}

resource "aws_cloudwatch_log_group" "g{i}" {{
  name              = "/bench/{i}"
  retention_in_days = {30 if bad else 400}
  {"" if bad else "kms_key_id = var.kms_key_arn"}
}}

resource "aws_sqs_queue" "q{i}" {{
  name                    = "q-{i}"
  sqs_managed_sse_enabled = {"false" if bad else "true"}
}}

resource "aws_ecr_repository" "r{i}" {{
  name                 = "repo-{i}"
  image_tag_mutability = "{"MUTABLE" if bad else "IMMUTABLE"}"
  image_scanning_configuration {{
    scan_on_push = {"false" if bad else "true"}
  }}
}}
'''


kinds = [s3, sg, iam, ec2, rds, misc]
for i in range(n):
    parts = [kinds[i % len(kinds)], rnd.choice(kinds)]
    text = "\n".join(p(i * 10 + k, rnd.random() < 0.5) for k, p in enumerate(parts))
    with open(os.path.join(out, f"res_{i:04d}.tf"), "w") as fh:
        fh.write(text)
print(f"wrote {n} files to {out}")
