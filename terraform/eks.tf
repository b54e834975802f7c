module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.37"

  cluster_name    = local.name
  cluster_version = var.kubernetes_version

  vpc_id                   = module.vpc.vpc_id
  subnet_ids               = module.vpc.private_subnets
  control_plane_subnet_ids = module.vpc.intra_subnets

  cluster_endpoint_public_access       = length(var.cluster_endpoint_public_access_cidrs) > 0
  cluster_endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs

  enable_cluster_creator_admin_permissions = true
  enable_irsa                              = true

  cluster_addons = {
    coredns                = {}
    kube-proxy             = {}
    eks-pod-identity-agent = {}
    # NetworkPolicies (k8s/base/network-policies.yaml) are enforced by the VPC CNI's policy agent.
    vpc-cni = {
      before_compute = true
      configuration_values = jsonencode({
        enableNetworkPolicy = "true"
      })
    }
    aws-efs-csi-driver = {
      service_account_role_arn = module.efs_csi_irsa.iam_role_arn
    }
  }

  eks_managed_node_groups = {
    general = {
      instance_types = var.node_instance_types
      min_size       = var.node_group_sizes.min
      desired_size   = var.node_group_sizes.desired
      max_size       = var.node_group_sizes.max
    }
    # The weekly trainer: memory-heavy, idle the rest of the week (the cluster autoscaler or Karpenter
    # brings a node for the CronJob's pod).
    trainer = {
      instance_types = var.trainer_instance_types
      min_size       = 0
      desired_size   = 0
      max_size       = 1
      labels         = { "searchop.io/pool" = "trainer" }
      taints = {
        trainer = {
          key    = "searchop.io/pool"
          value  = "trainer"
          effect = "NO_SCHEDULE"
        }
      }
    }
  }
}
