terraform {
  backend "s3" {
    bucket = "acme-terraform-state"
    key    = "infra.tfstate"
    region = "eu-west-1"
  }
}
