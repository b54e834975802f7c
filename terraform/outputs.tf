output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name <this>)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "EKS API endpoint."
  value       = module.eks.cluster_endpoint
}

output "msk_bootstrap_brokers_sasl_scram" {
  description = "KAFKA_BROKERS for the services (SASL/SCRAM over TLS, port 9096)."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_scram
}

output "msk_bootstrap_brokers_sasl_iam" {
  description = "Bootstrap brokers with IAM authentication (port 9098), for operators' tools."
  value       = aws_msk_cluster.this.bootstrap_brokers_sasl_iam
}

output "msk_scram_secret_arn" {
  description = "Secrets Manager secret holding the services' SCRAM username and password (KAFKA_SASL_PASSWORD)."
  value       = aws_secretsmanager_secret.msk_scram.arn
}

output "redis_configuration_endpoint" {
  description = "ElastiCache cluster-mode configuration endpoint (host): REDIS_CLUSTER_NODES=<this>:6379, REDIS_URL=rediss://<this>:6379."
  value       = aws_elasticache_replication_group.this.configuration_endpoint_address
}

output "redis_auth_secret_arn" {
  description = "Secrets Manager secret holding the Redis AUTH token (the password part of REDIS_URL)."
  value       = aws_secretsmanager_secret.redis_auth.arn
}

output "models_bucket" {
  description = "S3 bucket for model registry copies (versioned, KMS-encrypted)."
  value       = aws_s3_bucket.this["models"].bucket
}

output "offline_store_bucket" {
  description = "S3 bucket for offline-store copies (versioned, KMS-encrypted)."
  value       = aws_s3_bucket.this["offline_store"].bucket
}

output "efs_file_system_id" {
  description = "EFS file system of the ReadWriteMany volumes (fileSystemId in k8s/overlays/prod/storage-class.yaml)."
  value       = aws_efs_file_system.this.id
}

output "ecr_repository_urls" {
  description = "ECR repository URL per image (the images of k8s/overlays/prod)."
  value       = { for name, repo in aws_ecr_repository.this : name => repo.repository_url }
}

output "trainer_role_arn" {
  description = "IAM role of the searchop-trainer service account (eks.amazonaws.com/role-arn)."
  value       = module.trainer_irsa.iam_role_arn
}

output "services_role_arn" {
  description = "IAM role of the searchop service account (eks.amazonaws.com/role-arn)."
  value       = module.services_irsa.iam_role_arn
}
