variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Environment name (prod, staging, ...); part of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment: lower-case letters, digits and dashes, 2 to 16 characters."
  }
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; split into private, public and intra subnets over three zones."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zone_count" {
  description = "Availability zones used (MSK needs as many brokers as zones, at least two)."
  type        = number
  default     = 3
}

variable "kubernetes_version" {
  description = "EKS control plane version."
  type        = string
  default     = "1.32"
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the EKS API endpoint from the internet; empty makes the endpoint private only."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "Instance types of the general node group (services, registry)."
  type        = list(string)
  default     = ["m7i.large"]
}

variable "node_group_sizes" {
  description = "Minimum, desired and maximum nodes of the general node group."
  type = object({
    min     = number
    desired = number
    max     = number
  })
  default = { min = 3, desired = 3, max = 10 }
}

variable "trainer_instance_types" {
  description = "Instance types of the trainer node group (the weekly job; scales from zero)."
  type        = list(string)
  default     = ["r7i.xlarge"]
}

variable "kafka_version" {
  description = "Kafka version of the MSK cluster (3.9.x, as the local stack)."
  type        = string
  default     = "3.9.x"
}

variable "msk_broker_instance_type" {
  description = "MSK broker instance type."
  type        = string
  default     = "kafka.m7g.large"
}

variable "msk_broker_volume_gb" {
  description = "EBS volume per MSK broker, in GiB."
  type        = number
  default     = 500
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.r7g.large"
}

variable "redis_shards" {
  description = "Redis cluster-mode shards (node groups)."
  type        = number
  default     = 3
}

variable "redis_replicas_per_shard" {
  description = "Replicas per Redis shard (automatic failover needs at least one)."
  type        = number
  default     = 1
}

variable "redis_engine_version" {
  description = "ElastiCache Redis OSS engine version."
  type        = string
  default     = "7.1"
}

variable "image_names" {
  description = "One ECR repository per image (Dockerfile targets)."
  type        = list(string)
  default     = ["collector", "feature-processor", "compactor", "ranker", "trainer", "provision", "simulator"]
}

variable "namespace" {
  description = "Kubernetes namespace of the SearchOp workloads (k8s/overlays/prod)."
  type        = string
  default     = "searchop"
}
