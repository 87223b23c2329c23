//! The aws provider's EC2 and VPC types against moto (the AWS emulator),
//! through the real gantry binary: each type is created, re-planned
//! clean, updated in place, replaced, imported into an empty state and
//! destroyed, and every step is checked through the EC2 API.
//!
//! Needs `moto_server` (`pip install 'moto[server]==5.2.5'`); set
//! GANTRY_MOTO to its path (scripts/test does).

mod common;

use common::moto::{Lifecycle, Moto, Stack, block_on, run_lifecycle};
use gantry_aws::protocol::Params;
use gantry_aws::service::ec2::{self, IpPermission};

fn network(
    subnet_cidr: &str,
    assoc_table: &str,
    dns_hostnames: bool,
    extra_route: bool,
    route_dest: &str,
    name: &str,
) -> String {
    let extra = if extra_route {
        r#"
  route {
    cidr_block = "192.168.0.0/16"
    gateway_id = aws_internet_gateway.gw.id
  }"#
    } else {
        ""
    };
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block           = "10.10.0.0/16"
  enable_dns_hostnames = {dns_hostnames}
  tags                 = {{ Name = "{name}" }}
}}
resource "aws_subnet" "a" {{
  vpc_id                  = aws_vpc.main.id
  cidr_block              = "{subnet_cidr}"
  availability_zone       = "us-east-1a"
  map_public_ip_on_launch = {dns_hostnames}
  tags                    = {{ Name = "{name}-a" }}
}}
resource "aws_internet_gateway" "gw" {{
  vpc_id = aws_vpc.main.id
  tags   = {{ Name = "{name}" }}
}}
resource "aws_route_table" "rt" {{
  vpc_id = aws_vpc.main.id
  route {{
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }}{extra}
  tags = {{ Name = "{name}-public" }}
}}
resource "aws_route_table" "rt2" {{
  vpc_id = aws_vpc.main.id
}}
resource "aws_route_table_association" "a" {{
  subnet_id      = aws_subnet.a.id
  route_table_id = aws_route_table.{assoc_table}.id
}}
resource "aws_route" "r" {{
  route_table_id         = aws_route_table.rt2.id
  destination_cidr_block = "{route_dest}"
  gateway_id             = aws_internet_gateway.gw.id
}}
output "aws_vpc_main" {{ value = aws_vpc.main.id }}
output "aws_subnet_a" {{ value = aws_subnet.a.id }}
output "aws_internet_gateway_gw" {{ value = aws_internet_gateway.gw.id }}
output "aws_route_table_rt" {{ value = aws_route_table.rt.id }}
output "aws_route_table_rt2" {{ value = aws_route_table.rt2.id }}
output "aws_route_table_association_a" {{ value = "${{aws_subnet.a.id}}/${{aws_route_table.{assoc_table}.id}}" }}
output "aws_route_r" {{ value = "${{aws_route_table.rt2.id}}_${{aws_route.r.destination_cidr_block}}" }}
output "route_id" {{ value = aws_route.r.id }}
output "vpc_arn" {{ value = aws_vpc.main.arn }}
output "main_rt" {{ value = aws_vpc.main.main_route_table_id }}
output "default_sg" {{ value = aws_vpc.main.default_security_group_id }}
output "default_acl" {{ value = aws_vpc.main.default_network_acl_id }}
output "subnet_az_id" {{ value = aws_subnet.a.availability_zone_id }}
"#
    )
}

fn routes(t: &gantry_aws::xml::Element) -> Vec<(String, String)> {
    t.list("routeSet")
        .into_iter()
        .map(|r| {
            (
                r.text_at("destinationCidrBlock")
                    .unwrap_or_default()
                    .to_owned(),
                r.text_at("gatewayId").unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn vpc_network_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let v1 = network("10.10.1.0/24", "rt", false, false, "10.99.0.0/16", "net");
    let v2 = network("10.10.1.0/24", "rt2", true, true, "10.99.0.0/16", "net-b");
    let v3 = network("10.10.2.0/24", "rt2", true, true, "10.98.0.0/16", "net-b");
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &[
                "aws_vpc.main",
                "aws_subnet.a",
                "aws_internet_gateway.gw",
                "aws_route_table.rt",
                "aws_route_table.rt2",
                "aws_route_table_association.a",
                "aws_route.r",
            ],
        },
    );
    let vpc = s.output("aws_vpc_main");
    let subnet = s.output("aws_subnet_a");
    let igw = s.output("aws_internet_gateway_gw");
    let rt = s.output("aws_route_table_rt");
    let rt2 = s.output("aws_route_table_rt2");
    assert_eq!(
        s.output("vpc_arn"),
        format!("arn:aws:ec2:us-east-1:123456789012:vpc/{vpc}")
    );
    assert!(s.output("main_rt").starts_with("rtb-"));
    assert!(s.output("default_sg").starts_with("sg-"));
    assert!(s.output("default_acl").starts_with("acl-"));
    assert_eq!(s.output("subnet_az_id"), "use1-az6");
    // Terraform's route id: "r-" + table id + CRC-32 of the destination
    // (zlib.crc32(b"10.98.0.0/16") == 1992901988).
    assert_eq!(s.output("route_id"), format!("r-{rt2}1992901988"));
    block_on(async {
        let v = ec2::describe_vpc(&c, &vpc).await.unwrap().unwrap();
        let tags = ec2::tags_of(&v);
        assert_eq!(tags.get("Name").map(String::as_str), Some("net-b"));
        assert_eq!(
            tags.get("managed_by").map(String::as_str),
            Some("gantry"),
            "default_tags"
        );
        assert!(
            ec2::vpc_attribute(&c, &vpc, "enableDnsHostnames")
                .await
                .unwrap()
        );
        let sn = ec2::describe_subnet(&c, &subnet).await.unwrap().unwrap();
        assert_eq!(sn.text_at("cidrBlock"), Some("10.10.2.0/24"));
        assert_eq!(sn.text_at("mapPublicIpOnLaunch"), Some("true"));
        // The replaced subnet is gone.
        let mut p = Params::new();
        ec2::filters(&mut p, [("vpc-id", &[vpc.clone()][..])]);
        let subnets = ec2::describe_all(&c, "DescribeSubnets", &p, "subnetSet")
            .await
            .unwrap();
        assert_eq!(subnets.len(), 1, "old subnet left behind");
        let igws = ec2::describe_one(
            &c,
            "DescribeInternetGateways",
            "InternetGatewayId",
            &igw,
            "internetGatewaySet",
            &[],
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(igws.text_at("attachmentSet/item/vpcId"), Some(vpc.as_str()));
        let t = ec2::describe_route_table(&c, &rt).await.unwrap().unwrap();
        let r = routes(&t);
        assert!(r.contains(&("0.0.0.0/0".into(), igw.clone())), "{r:?}");
        assert!(r.contains(&("192.168.0.0/16".into(), igw.clone())), "{r:?}");
        let t2 = ec2::describe_route_table(&c, &rt2).await.unwrap().unwrap();
        let r2 = routes(&t2);
        assert!(r2.contains(&("10.98.0.0/16".into(), igw.clone())), "{r2:?}");
        assert!(
            !r2.iter().any(|(d, _)| d == "10.99.0.0/16"),
            "replaced route remains: {r2:?}"
        );
        let assoc: Vec<_> = t2
            .list("associationSet")
            .into_iter()
            .filter_map(|a| a.text_at("subnetId"))
            .collect();
        assert_eq!(assoc, vec![subnet.as_str()], "association moved to rt2");
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert!(ec2::describe_vpc(&c, &vpc).await.unwrap().is_none());
        assert!(ec2::describe_subnet(&c, &subnet).await.unwrap().is_none());
        assert!(ec2::describe_route_table(&c, &rt).await.unwrap().is_none());
    });
}

fn group(name: &str, ingress_80: bool, desc: &str) -> String {
    let extra = if ingress_80 {
        r#"
  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }"#
    } else {
        ""
    };
    format!(
        r#"
resource "aws_vpc" "v" {{ cidr_block = "10.20.0.0/16" }}
resource "aws_security_group" "web" {{
  name   = "{name}"
  vpc_id = aws_vpc.v.id
  ingress {{
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8", "172.16.0.0/12"]
    description = "{desc}"
  }}
  ingress {{
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }}{extra}
  egress {{
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }}
  tags = {{ tier = "{desc}" }}
}}
resource "aws_security_group" "bare" {{
  name_prefix = "gt-bare-"
  vpc_id      = aws_vpc.v.id
}}
output "aws_security_group_web" {{ value = aws_security_group.web.id }}
output "aws_security_group_bare" {{ value = aws_security_group.bare.id }}
output "aws_vpc_v" {{ value = aws_vpc.v.id }}
output "bare_name" {{ value = aws_security_group.bare.name }}
output "bare_description" {{ value = aws_security_group.bare.description }}
"#
    )
}

fn ingress_of(c: &gantry_aws::Client, id: &str) -> Vec<IpPermission> {
    block_on(async {
        let g = ec2::describe_security_group(c, id).await.unwrap().unwrap();
        g.list("ipPermissions")
            .into_iter()
            .map(IpPermission::parse)
            .collect()
    })
}

#[test]
fn security_group_with_inline_rules_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let v1 = group("gt-web", false, "ssh");
    let v2 = group("gt-web", true, "ssh-admin");
    let v3 = group("gt-web2", true, "ssh-admin");
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &[
                "aws_vpc.v",
                "aws_security_group.web",
                "aws_security_group.bare",
            ],
        },
    );
    let web = s.output("aws_security_group_web");
    let bare = s.output("aws_security_group_bare");
    assert!(s.output("bare_name").starts_with("gt-bare-"));
    assert_eq!(s.output("bare_description"), "Managed by Terraform");
    block_on(async {
        let g = ec2::describe_security_group(&c, &web)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(g.text_at("groupName"), Some("gt-web2"));
        let tags = ec2::tags_of(&g);
        assert_eq!(tags.get("tier").map(String::as_str), Some("ssh-admin"));
        assert_eq!(tags.get("managed_by").map(String::as_str), Some("gantry"));
        let ingress: Vec<IpPermission> = g
            .list("ipPermissions")
            .into_iter()
            .map(IpPermission::parse)
            .collect();
        let ssh = ingress
            .iter()
            .find(|p| p.from_port == Some(22))
            .expect("ssh rule");
        let mut cidrs = ssh.cidr_ipv4.clone();
        cidrs.sort();
        assert_eq!(
            cidrs,
            vec![
                ("10.0.0.0/8".to_owned(), Some("ssh-admin".to_owned())),
                ("172.16.0.0/12".to_owned(), Some("ssh-admin".to_owned())),
            ]
        );
        assert!(ingress.iter().any(|p| p.from_port == Some(80)));
        let all = ingress
            .iter()
            .find(|p| p.protocol == "-1")
            .expect("self rule");
        assert_eq!(all.groups[0].0, web, "self rule references the group");
        let egress: Vec<IpPermission> = g
            .list("ipPermissionsEgress")
            .into_iter()
            .map(IpPermission::parse)
            .collect();
        assert_eq!(egress.len(), 1, "{egress:?}");
        // Terraform removes AWS's allow-all egress rule from a new group
        // that configures no egress.
        let b = ec2::describe_security_group(&c, &bare)
            .await
            .unwrap()
            .unwrap();
        assert!(b.list("ipPermissionsEgress").is_empty());
        let mut p = Params::new();
        ec2::filters(&mut p, [("group-name", &["gt-web".to_owned()][..])]);
        let old = ec2::describe_all(&c, "DescribeSecurityGroups", &p, "securityGroupInfo")
            .await
            .unwrap();
        assert!(old.is_empty(), "replaced group remains");
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert!(
            ec2::describe_security_group(&c, &web)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            ec2::describe_security_group(&c, &bare)
                .await
                .unwrap()
                .is_none()
        );
    });
}

#[test]
fn security_group_drift_is_planned_away() {
    let moto = Moto::start();
    let c = moto.client();
    let s = Stack::new(&moto);
    s.write(&group("gt-drift", false, "ssh"));
    s.apply();
    s.assert_clean("after create");
    let id = s.output("aws_security_group_web");
    // Someone opens port 3306 to the world behind our back.
    block_on(async {
        let extra = IpPermission {
            protocol: "tcp".into(),
            from_port: Some(3306),
            to_port: Some(3306),
            cidr_ipv4: vec![("0.0.0.0/0".into(), None)],
            ..IpPermission::default()
        };
        ec2::change_permissions(&c, &id, false, false, &[extra], &Default::default())
            .await
            .unwrap();
    });
    assert!(
        ingress_of(&c, &id)
            .iter()
            .any(|p| p.from_port == Some(3306))
    );
    // `gantry drift` names the group and the ingress rules that changed.
    let (code, out, err) = s.run(&["drift"]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains("~ aws_security_group.web"), "{out}");
    assert!(out.contains("ingress:"), "{out}");
    assert!(out.contains("3306"), "{out}");
    let (code, out) = s.plan();
    assert_eq!(code, 2, "drift must show:\n{out}");
    assert!(out.contains("aws_security_group.web"), "{out}");
    assert!(out.contains("3306"), "the extra rule is shown:\n{out}");
    assert!(out.contains("updated in-place"), "{out}");
    assert!(!out.contains("must be replaced"), "{out}");
    s.apply();
    let ingress = ingress_of(&c, &id);
    assert!(
        !ingress.iter().any(|p| p.from_port == Some(3306)),
        "apply puts the configured rules back: {ingress:?}"
    );
    assert!(ingress.iter().any(|p| p.from_port == Some(22)));
    s.assert_clean("after apply");
    let (code, out, err) = s.run(&["drift"]);
    assert_eq!(code, 0, "{out}\n{err}");
    s.ok(&["destroy", "-auto-approve"]);
}

fn rules(target_sg: &str, port: u32, desc: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "v" {{ cidr_block = "10.30.0.0/16" }}
resource "aws_security_group" "one" {{
  name   = "gt-rules-one"
  vpc_id = aws_vpc.v.id
}}
resource "aws_security_group" "two" {{
  name   = "gt-rules-two"
  vpc_id = aws_vpc.v.id
}}
resource "aws_vpc_security_group_ingress_rule" "https" {{
  security_group_id = aws_security_group.{target_sg}.id
  cidr_ipv4         = "10.0.0.0/8"
  from_port         = {port}
  to_port           = {port}
  ip_protocol       = "tcp"
  description       = "{desc}"
  tags              = {{ rule = "{desc}" }}
}}
resource "aws_vpc_security_group_ingress_rule" "from_two" {{
  security_group_id            = aws_security_group.one.id
  referenced_security_group_id = aws_security_group.two.id
  ip_protocol                  = "-1"
}}
resource "aws_vpc_security_group_egress_rule" "all" {{
  security_group_id = aws_security_group.{target_sg}.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}}
output "aws_vpc_security_group_ingress_rule_https" {{ value = aws_vpc_security_group_ingress_rule.https.id }}
output "aws_vpc_security_group_ingress_rule_from_two" {{ value = aws_vpc_security_group_ingress_rule.from_two.id }}
output "aws_vpc_security_group_egress_rule_all" {{ value = aws_vpc_security_group_egress_rule.all.id }}
output "aws_security_group_one" {{ value = aws_security_group.one.id }}
output "aws_security_group_two" {{ value = aws_security_group.two.id }}
output "aws_vpc_v" {{ value = aws_vpc.v.id }}
output "https_arn" {{ value = aws_vpc_security_group_ingress_rule.https.arn }}
output "https_rule_id" {{ value = aws_vpc_security_group_ingress_rule.https.security_group_rule_id }}
"#
    )
}

#[test]
fn security_group_rule_resources_lifecycle() {
    let moto = Moto::start();
    let c = moto.client();
    let v1 = rules("one", 443, "https");
    let v2 = rules("one", 8443, "alt-https");
    let v3 = rules("two", 8443, "alt-https");
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &[
                "aws_vpc.v",
                "aws_security_group.one",
                "aws_security_group.two",
                "aws_vpc_security_group_ingress_rule.https",
                "aws_vpc_security_group_ingress_rule.from_two",
                "aws_vpc_security_group_egress_rule.all",
            ],
        },
    );
    let https = s.output("aws_vpc_security_group_ingress_rule_https");
    let one = s.output("aws_security_group_one");
    let two = s.output("aws_security_group_two");
    assert!(https.starts_with("sgr-"), "{https}");
    assert_eq!(s.output("https_rule_id"), https);
    assert_eq!(
        s.output("https_arn"),
        format!("arn:aws:ec2:us-east-1:123456789012:security-group-rule/{https}")
    );
    block_on(async {
        let r = ec2::describe_security_group_rule(&c, &https)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.text_at("groupId"), Some(two.as_str()));
        assert_eq!(r.text_at("fromPort"), Some("8443"));
        assert_eq!(r.text_at("description"), Some("alt-https"));
        let tags = ec2::tags_of(&r);
        assert_eq!(tags.get("rule").map(String::as_str), Some("alt-https"));
        assert_eq!(tags.get("managed_by").map(String::as_str), Some("gantry"));
        // The replaced rules left group one.
        let left = ec2::security_group_rules(&c, &one).await.unwrap();
        assert!(
            left.iter()
                .all(|r| r.text_at("cidrIpv4") != Some("10.0.0.0/8")),
            "replaced rule remains"
        );
        assert!(
            left.iter()
                .any(|r| r.text_at("referencedGroupInfo/groupId") == Some(two.as_str()))
        );
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        assert!(
            ec2::describe_security_group(&c, &one)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            ec2::describe_security_group_rule(&c, &https)
                .await
                .unwrap()
                .is_none()
        );
    });
}

fn instance(private_ip: &str, itype: &str, owner: &str, tokens: &str, size: u32) -> String {
    let profile = if owner == "b" {
        r#"iam_instance_profile   = "gt-profile""#
    } else {
        ""
    };
    format!(
        r##"
data "aws_availability_zones" "az" {{ state = "available" }}
data "aws_ami" "linux" {{
  owners      = ["amazon"]
  most_recent = true
  filter {{
    name   = "name"
    values = ["amzn2-ami-hvm-*-x86_64-gp2"]
  }}
  filter {{
    name   = "architecture"
    values = ["x86_64"]
  }}
}}
resource "aws_vpc" "v" {{ cidr_block = "10.40.0.0/16" }}
resource "aws_subnet" "s" {{
  vpc_id            = aws_vpc.v.id
  cidr_block        = "10.40.1.0/24"
  availability_zone = data.aws_availability_zones.az.names[0]
}}
resource "aws_security_group" "sg" {{
  name   = "gt-instance"
  vpc_id = aws_vpc.v.id
}}
resource "aws_instance" "web" {{
  ami                    = data.aws_ami.linux.id
  instance_type          = "{itype}"
  subnet_id              = aws_subnet.s.id
  private_ip             = "{private_ip}"
  {profile}
  vpc_security_group_ids = [aws_security_group.sg.id]
  user_data              = "#!/bin/bash\necho hello\n"
  metadata_options {{
    http_tokens = "{tokens}"
  }}
  root_block_device {{
    volume_size = {size}
  }}
  tags = {{ owner = "{owner}" }}
}}
output "aws_instance_web" {{ value = aws_instance.web.id }}
output "aws_vpc_v" {{ value = aws_vpc.v.id }}
output "aws_subnet_s" {{ value = aws_subnet.s.id }}
output "aws_security_group_sg" {{ value = aws_security_group.sg.id }}
output "ami" {{ value = data.aws_ami.linux.id }}
output "ami_name" {{ value = data.aws_ami.linux.name }}
output "az" {{ value = aws_instance.web.availability_zone }}
output "zones" {{ value = join(",", data.aws_availability_zones.az.zone_ids) }}
output "state" {{ value = aws_instance.web.instance_state }}
output "private_ip" {{ value = aws_instance.web.private_ip }}
output "user_data" {{ value = aws_instance.web.user_data }}
output "arn" {{ value = aws_instance.web.arn }}
output "root_volume" {{ value = aws_instance.web.root_block_device[0].volume_id }}
"##
    )
}

#[test]
fn instance_lifecycle_with_ami_lookup() {
    let moto = Moto::start();
    let c = moto.client();
    // An instance profile made outside the configuration, attached in v2.
    block_on(async {
        let mut p = Params::new();
        p.set("InstanceProfileName", "gt-profile");
        gantry_aws::protocol::query(
            &c,
            &gantry_aws::client::IAM,
            "CreateInstanceProfile",
            "2010-05-08",
            &p,
        )
        .await
        .unwrap();
    });
    let v1 = instance("10.40.1.10", "t3.micro", "a", "required", 10);
    let v2 = instance("10.40.1.10", "t3.small", "b", "optional", 12);
    let v3 = instance("10.40.1.50", "t3.small", "b", "optional", 12);
    let s = run_lifecycle(
        &moto,
        &Lifecycle {
            v1: &v1,
            v2: &v2,
            v3: &v3,
            imports: &[
                "aws_vpc.v",
                "aws_subnet.s",
                "aws_security_group.sg",
                "aws_instance.web",
            ],
        },
    );
    let id = s.output("aws_instance_web");
    // most_recent picks one of the matching images, the same every time.
    assert!(s.output("ami_name").starts_with("amzn2-ami-hvm-"));
    assert_eq!(s.output("az"), "us-east-1a");
    assert!(s.output("zones").contains("use1-az6"));
    assert_eq!(s.output("state"), "running");
    assert_eq!(s.output("private_ip"), "10.40.1.50");
    // Terraform keeps the SHA-1 of user_data in state.
    assert_eq!(
        s.output("user_data"),
        "7ab9e1ebee7aa7f6ab88b6001c017d19c3e27d14"
    );
    assert_eq!(
        s.output("arn"),
        format!("arn:aws:ec2:us-east-1:123456789012:instance/{id}")
    );
    let ami = s.output("ami");
    block_on(async {
        let i = ec2::describe_instance(&c, &id).await.unwrap().unwrap();
        assert_eq!(i.text_at("instanceType"), Some("t3.small"));
        assert_eq!(i.text_at("privateIpAddress"), Some("10.40.1.50"));
        assert!(
            i.text_at("iamInstanceProfile/arn")
                .is_some_and(|a| a.ends_with("instance-profile/gt-profile")),
            "{:?}",
            i.path("iamInstanceProfile")
        );
        let vol = ec2::describe_volume(&c, &s.output("root_volume"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(vol.text_at("size"), Some("12"));
        assert_eq!(i.text_at("imageId"), Some(ami.as_str()));
        assert_eq!(i.text_at("instanceState/name"), Some("running"));
        assert_eq!(i.text_at("metadataOptions/httpTokens"), Some("optional"));
        let tags = ec2::tags_of(&i);
        assert_eq!(tags.get("owner").map(String::as_str), Some("b"));
        assert_eq!(tags.get("managed_by").map(String::as_str), Some("gantry"));
        let ud = ec2::instance_attribute(&c, &id, "userData")
            .await
            .unwrap()
            .unwrap();
        // base64 of "#!/bin/bash\necho hello\n"
        assert_eq!(ud, "IyEvYmluL2Jhc2gKZWNobyBoZWxsbwo=");
        // Only the replacement runs; the first instance was terminated.
        let all = ec2::describe_all(&c, "DescribeInstances", &Params::new(), "reservationSet")
            .await
            .unwrap();
        let running: Vec<_> = all
            .iter()
            .flat_map(|r| r.list("instancesSet"))
            .filter(|i| i.text_at("instanceState/name") == Some("running"))
            .collect();
        assert_eq!(running.len(), 1);
    });
    s.ok(&["destroy", "-auto-approve"]);
    block_on(async {
        let i = ec2::describe_instance(&c, &id).await.unwrap();
        assert!(
            i.is_none_or(|i| i.text_at("instanceState/name") == Some("terminated")),
            "instance still alive after destroy"
        );
    });
}

#[test]
fn bad_input_is_rejected_at_plan() {
    let moto = Moto::start();
    let s = Stack::new(&moto);
    s.write(
        r#"
resource "aws_vpc" "bad" { cidr_block = "10.0.0.1/16" }
"#,
    );
    let (code, out, err) = s.run(&["plan"]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("aws_vpc.bad"), "{err}");
    assert!(err.contains("cidr_block"), "{err}");
    assert!(
        err.contains("10.0.0.0/16"),
        "suggests the network address: {err}"
    );

    s.write(
        r#"
resource "aws_security_group" "bad" {
  name = "x"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["not-a-cidr"]
  }
}
resource "aws_vpc_security_group_ingress_rule" "bad" {
  security_group_id = "sg-12345678"
  cidr_ipv4         = "0.0.0.0/0"
  cidr_ipv6         = "::/0"
  ip_protocol       = "tcp"
  from_port         = 70000
  to_port           = 70000
}
"#,
    );
    let (code, out, err) = s.run(&["plan"]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("aws_security_group.bad"), "{err}");
    assert!(err.contains("not-a-cidr"), "{err}");
    assert!(
        err.contains("aws_vpc_security_group_ingress_rule.bad"),
        "{err}"
    );
    assert!(err.contains("exactly one of"), "{err}");
    assert!(err.contains("70000"), "{err}");
    // Nothing was created.
    let c = moto.client();
    block_on(async {
        let mut p = Params::new();
        ec2::filters(&mut p, [("cidr", &["10.0.0.1/16".to_owned()][..])]);
        let vpcs = ec2::describe_all(&c, "DescribeVpcs", &p, "vpcSet")
            .await
            .unwrap();
        assert!(vpcs.is_empty());
    });
}
