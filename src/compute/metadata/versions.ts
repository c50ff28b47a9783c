// The metadata versions Nova serves (nova/api/metadata/base.py): EC2 dates and OpenStack release dates.

/** EC2 metadata versions, oldest first ("latest" is the last). */
export const EC2_VERSIONS = [
  "1.0",
  "2007-01-19",
  "2007-03-01",
  "2007-08-29",
  "2007-10-10",
  "2007-12-15",
  "2008-02-01",
  "2008-09-01",
  "2009-04-04",
] as const;

/** Named OpenStack metadata versions (the release that introduced each). */
export const OS = {
  FOLSOM: "2012-08-10",
  GRIZZLY: "2013-04-04",
  HAVANA: "2013-10-17",
  LIBERTY: "2015-10-15",
  NEWTON_ONE: "2016-06-30",
  NEWTON_TWO: "2016-10-06",
  OCATA: "2017-02-22",
  ROCKY: "2018-08-27",
  VICTORIA: "2020-10-14",
  EPOXY: "2025-04-04",
} as const;

/** OpenStack metadata versions, oldest first. */
export const OPENSTACK_VERSIONS: readonly string[] = Object.values(OS);

/** EC2 versions Nova leaves off the config drive (config_drive_skip_versions' default). */
export const CONFIG_DRIVE_SKIP_EC2: ReadonlySet<string> = new Set(EC2_VERSIONS.slice(0, 8));

/** An EC2 version ("latest" resolved) or undefined when unknown. */
export function ec2Version(v: string): string | undefined {
  if (v === "latest") return EC2_VERSIONS[EC2_VERSIONS.length - 1];
  return (EC2_VERSIONS as readonly string[]).includes(v) ? v : undefined;
}

/** An OpenStack version ("latest" resolved) or undefined when unknown. */
export function openstackVersion(v: string): string | undefined {
  if (v === "latest") return OPENSTACK_VERSIONS[OPENSTACK_VERSIONS.length - 1];
  return OPENSTACK_VERSIONS.includes(v) ? v : undefined;
}

/** Is EC2 version `requested` at least `required`? */
export const ec2AtLeast = (requested: string, required: string): boolean =>
  (EC2_VERSIONS as readonly string[]).indexOf(requested) >=
  (EC2_VERSIONS as readonly string[]).indexOf(required);

/** Is OpenStack version `requested` at least `required`? */
export const osAtLeast = (requested: string, required: string): boolean =>
  OPENSTACK_VERSIONS.indexOf(requested) >= OPENSTACK_VERSIONS.indexOf(required);

/** The OpenStack versions listed at /openstack: those not in the future (Nova hides them), then "latest". */
export function listedOpenstackVersions(now: Date = new Date()): string[] {
  const today = now.toISOString().slice(0, 10);
  return [...OPENSTACK_VERSIONS.filter((v) => v <= today), "latest"];
}
