// Key Vault for the secrets the platform needs. The app itself holds none in Azure (storage by managed identity,
// tokens from Entra ID), so the vault holds the one secret the Elastic Premium plan needs: the connection string of
// the Functions content share (see functionapp.bicep). App settings reference it as @Microsoft.KeyVault(...).

param location string
param name string
param tags object

@description('Entra ID tenant the vault trusts.')
param tenantId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Access by Azure RBAC (Key Vault Secrets User for the app), not by access policies.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output id string = vault.id
