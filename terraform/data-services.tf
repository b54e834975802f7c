# Kafka (MSK) and Redis (ElastiCache): reachable only from the cluster's nodes and pods (the node security
# group), over TLS. Clients authenticate to MSK with SASL/SCRAM (the services' kafkajs client supports
# SCRAM; IAM is enabled too for operators' tools). No password is in these files: SCRAM and Redis AUTH
# secrets are generated and kept in Secrets Manager (and the Terraform state, which must be encrypted).

resource "aws_security_group" "msk" {
  name_prefix = "${local.name}-msk-"
  description = "MSK brokers: TLS listeners from the EKS nodes only"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "msk_from_nodes" {
  for_each = toset(["9094", "9096", "9098"])

  security_group_id            = aws_security_group.msk.id
  description                  = "Kafka TLS (9094), SASL/SCRAM (9096) and IAM (9098) from EKS nodes"
  referenced_security_group_id = module.eks.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.value)
  to_port                      = tonumber(each.value)
}

resource "aws_kms_key" "data" {
  description         = "${local.name}: MSK SCRAM secrets, S3 buckets, EFS, ElastiCache"
  enable_key_rotation = true
}

resource "aws_msk_configuration" "this" {
  name           = local.name
  kafka_versions = [var.kafka_version]

  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=3
    min.insync.replicas=2
    num.partitions=6
    transaction.state.log.replication.factor=3
    transaction.state.log.min.isr=2
  PROPERTIES
}

resource "aws_msk_cluster" "this" {
  cluster_name           = local.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = length(local.azs)

  broker_node_group_info {
    instance_type   = var.msk_broker_instance_type
    client_subnets  = module.vpc.private_subnets
    security_groups = [aws_security_group.msk.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.msk_broker_volume_gb
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = aws_kms_key.data.arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  client_authentication {
    unauthenticated = false
    sasl {
      scram = true
      iam   = true
    }
  }

  open_monitoring {
    prometheus {
      jmx_exporter {
        enabled_in_broker = true
      }
      node_exporter {
        enabled_in_broker = true
      }
    }
  }
}

# The services' SCRAM user (KAFKA_SASL_USERNAME=searchop). MSK requires the AmazonMSK_ name prefix and a
# customer-managed key.
resource "random_password" "msk_scram" {
  length  = 32
  special = false
}

resource "aws_secretsmanager_secret" "msk_scram" {
  name_prefix = "AmazonMSK_${local.name}-searchop-"
  description = "SASL/SCRAM credentials of the SearchOp services on MSK"
  kms_key_id  = aws_kms_key.data.arn
}

resource "aws_secretsmanager_secret_version" "msk_scram" {
  secret_id = aws_secretsmanager_secret.msk_scram.id
  secret_string = jsonencode({
    username = "searchop"
    password = random_password.msk_scram.result
  })
}

resource "aws_msk_scram_secret_association" "this" {
  cluster_arn     = aws_msk_cluster.this.arn
  secret_arn_list = [aws_secretsmanager_secret.msk_scram.arn]

  depends_on = [aws_secretsmanager_secret_version.msk_scram]
}

resource "aws_security_group" "redis" {
  name_prefix = "${local.name}-redis-"
  description = "ElastiCache Redis: TLS from the EKS nodes only"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_nodes" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis TLS from EKS nodes"
  referenced_security_group_id = module.eks.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_elasticache_subnet_group" "this" {
  name       = local.name
  subnet_ids = module.vpc.private_subnets
}

resource "random_password" "redis_auth" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "redis_auth" {
  name_prefix = "${local.name}-redis-auth-"
  description = "AUTH token of the SearchOp ElastiCache cluster (REDIS_URL credentials)"
  kms_key_id  = aws_kms_key.data.arn
}

resource "aws_secretsmanager_secret_version" "redis_auth" {
  secret_id     = aws_secretsmanager_secret.redis_auth.id
  secret_string = random_password.redis_auth.result
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = local.name
  description          = "SearchOp online features"
  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  port                 = 6379

  # Cluster mode: keys are spread over shards by hash slot (schemas/src/features/redis-keys.ts hash tags).
  num_node_groups            = var.redis_shards
  replicas_per_node_group    = var.redis_replicas_per_shard
  automatic_failover_enabled = true
  multi_az_enabled           = var.redis_replicas_per_shard > 0
  parameter_group_name       = "default.redis7.cluster.on"

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.redis.id]

  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.data.arn
  auth_token                 = random_password.redis_auth.result

  snapshot_retention_limit = 3
  apply_immediately        = false
}
