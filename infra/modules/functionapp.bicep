// The Linux function app that runs the app as a custom handler (host.json customHandler), with a system-assigned
// managed identity that reaches storage and Key Vault through the role assignments below and nothing else.

param location string
param tags object

@description('Function app name (also its default host name).')
param name string

@description('App Service plan name.')
param planName string

@description('Plan SKU. EP1-EP3: Elastic Premium (scales out on queue length, the default). P1v3-P3v3: Dedicated.')
@allowed(['EP1', 'EP2', 'EP3', 'P1v3', 'P2v3', 'P3v3'])
param planSku string

@description('Most instances the plan scales out to (Elastic Premium).')
@minValue(1)
param maximumInstances int

@description('The data account (AzureWebJobsStorage, by identity).')
param storageAccountName string

@description('The account that holds the Azure Files content share (Elastic Premium only); keys allowed, no ETS data.')
param contentAccountName string

param keyVaultName string
param appInsightsName string

@description('Entra ID tenant that issues the API tokens.')
param authTenantId string

@description('Audience (the Application ID URI or client id of the API app registration) the tokens must carry.')
param authAudience string

@description('Issuer the tokens must carry; empty means the tenant\'s v2.0 issuer.')
param authIssuer string

@description('Origins of the web portal, whose pages call the API with a bearer token (no cookies: no credentials allowed).')
param corsOrigins array = []

var isElasticPremium = startsWith(planSku, 'EP')
var contentShareName = toLower(name)
var authority = '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'

// Built-in role definitions (ids are the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Elastic Premium keeps the deployed code on an Azure Files share, which only accepts the account key. That key is
// kept away from the ETS data by giving the share its own account, and away from app settings by Key Vault.
resource content 'Microsoft.Storage/storageAccounts@2023-05-01' = if (isElasticPremium) {
  name: contentAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: true
  }
}

resource contentShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = if (isElasticPremium) {
  name: '${content.name}/default/${contentShareName}'
}

resource contentConnection 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (isElasticPremium) {
  parent: vault
  name: 'functions-content-connection'
  properties: {
    value: 'DefaultEndpointsProtocol=https;AccountName=${content.name};EndpointSuffix=${environment().suffixes.storage};AccountKey=${content!.listKeys().keys[0].value}'
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: isElasticPremium ? 'elastic' : 'linux'
  sku: {
    name: planSku
    tier: isElasticPremium ? 'ElasticPremium' : 'PremiumV3'
  }
  properties: {
    reserved: true // Linux
    maximumElasticWorkerCount: isElasticPremium ? maximumInstances : null
  }
}

@description('Azure Communication Services SMTP user name for the notices\' email; empty: no email relay.')
param smtpUserName string = ''

@description('The notices\' sender address on the Communication Services domain.')
param smtpFrom string = ''

// The notices' relay (README "Notices and email"): the password is the Entra application's client secret, a vault
// secret the operator creates (infra/README.md).
var emailSettings = empty(smtpUserName)
  ? []
  : [
      { name: 'Ets__Notices__Smtp__Host', value: 'smtp.azurecomm.net' }
      { name: 'Ets__Notices__Smtp__Port', value: '587' }
      { name: 'Ets__Notices__Smtp__Security', value: 'StartTls' }
      { name: 'Ets__Notices__Smtp__UserName', value: smtpUserName }
      { name: 'Ets__Notices__Smtp__Password', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=smtp-password)' }
      { name: 'Ets__Notices__Smtp__From', value: smtpFrom }
    ]

var baseSettings = [
  { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'custom' }
  // Identity-based host storage: the host and the app (StorageClients) both read AzureWebJobsStorage__accountName
  // and use the managed identity; there is no connection string and no key.
  { name: 'AzureWebJobsStorage__accountName', value: storage.name }
  // The service addresses too, so the app and the host reach the account in any cloud (core.chinacloudapi.cn in
  // Azure China) without deriving them from the name.
  { name: 'AzureWebJobsStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsights.properties.ConnectionString }
  { name: 'Auth__Authority', value: authority }
  { name: 'Auth__Audience', value: authAudience }
  { name: 'Auth__Issuer', value: empty(authIssuer) ? authority : authIssuer }
  // The key account applications' personal data is encrypted under (Art. 13): created once in the vault by the
  // operator (infra/README.md), never by a deployment, which would replace it and leave the stored data unreadable.
  { name: 'Ets__Registry__DataKey', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=registry-data-key)' }
]

var contentSettings = isElasticPremium
  ? [
      { name: 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', value: '@Microsoft.KeyVault(SecretUri=${contentConnection!.properties.secretUri})' }
      { name: 'WEBSITE_CONTENTSHARE', value: contentShareName }
      // The share is created above; the platform cannot check a Key Vault reference before the identity can read it.
      { name: 'WEBSITE_SKIP_CONTENTSHARE_VALIDATION', value: '1' }
    ]
  : []

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    reserved: true
    httpsOnly: true
    keyVaultReferenceIdentity: 'SystemAssigned'
    siteConfig: {
      linuxFxVersion: '' // a custom handler brings its own self-contained executable
      alwaysOn: !isElasticPremium
      // The durable engine's worker runs in the app, unseen by the scale controller: one instance stays ready always.
      minimumElasticInstanceCount: isElasticPremium ? 1 : null
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      http20Enabled: true
      cors: {
        allowedOrigins: corsOrigins
        supportCredentials: false
      }
      appSettings: concat(baseSettings, contentSettings, emailSettings)
    }
  }
  dependsOn: [
    contentShare
  ]
}

resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

// Exactly what the app and the Functions host use, scoped to the data account (and the vault), nothing broader:
// blobs (documents; the host's leases and keys need Owner), queues (triggers and the app's own sends), tables
// (every record), and the delegator role that lets the identity sign user-delegation SAS for upload links.
var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageBlobDelegator
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource storageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storage.id, site.id, role)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: site.identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource secretsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, site.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
output principalId string = site.identity.principalId
