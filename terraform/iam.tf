# IAM roles for service accounts (IRSA): the trainer reads and writes both buckets; the services read the
# models bucket; the EFS CSI driver manages access points. Service account names match k8s/base.

module "efs_csi_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.59"

  role_name             = "${local.name}-efs-csi"
  attach_efs_csi_policy = true

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:efs-csi-controller-sa"]
    }
  }
}

data "aws_iam_policy_document" "trainer" {
  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket"]
    resources = [for b in aws_s3_bucket.this : b.arn]
  }
  statement {
    sid       = "ReadWriteObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for b in aws_s3_bucket.this : "${b.arn}/*"]
  }
  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.data.arn]
  }
}

data "aws_iam_policy_document" "services" {
  statement {
    sid       = "ReadModels"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.this["models"].arn, "${aws_s3_bucket.this["models"].arn}/*"]
  }
  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.data.arn]
  }
}

resource "aws_iam_policy" "trainer" {
  name_prefix = "${local.name}-trainer-"
  description = "SearchOp trainer: models and offline-store buckets"
  policy      = data.aws_iam_policy_document.trainer.json
}

resource "aws_iam_policy" "services" {
  name_prefix = "${local.name}-services-"
  description = "SearchOp services: read the models bucket"
  policy      = data.aws_iam_policy_document.services.json
}

module "trainer_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.59"

  role_name        = "${local.name}-trainer"
  role_policy_arns = { s3 = aws_iam_policy.trainer.arn }

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${var.namespace}:searchop-trainer"]
    }
  }
}

module "services_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.59"

  role_name        = "${local.name}-services"
  role_policy_arns = { s3 = aws_iam_policy.services.arn }

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${var.namespace}:searchop"]
    }
  }
}
