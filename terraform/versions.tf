terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State in S3 with locking; the bucket is created once by hand or by a bootstrap stack:
  #   terraform init -backend-config="bucket=<state bucket>" -backend-config="key=searchop/<env>.tfstate" \
  #                  -backend-config="region=<region>"
  backend "s3" {
    use_lockfile = true
    encrypt      = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project     = "searchop"
      Environment = var.environment
    })
  }
}
