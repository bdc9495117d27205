/**
 * The AWS SDK is pinned to a release that supports Node 20 (package.json); its notice that later
 * releases need Node 22 is for whoever upgrades it, not something an operator can act on at run
 * time, so it is kept off their terminals and logs. Called where the clients are built; an
 * operator's own setting of the variable wins.
 */
export function quietSdkNodeNotice(): void {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
}
