package pb

// Make sure the user doesn't upgrade this package!
// This will fail to build if the user does.
const _ = DoNotUpgradeFileEverItWillChangeYourHashes
