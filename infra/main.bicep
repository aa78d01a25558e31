// Everything the Beijing ETS back-end needs in one resource group: `azd up` (azure.yaml) or
//   az deployment group create -g <group> -f infra/main.bicep -p infra/main.parameters.json
// README "Deploy to Azure" says which parameters to set. A test compiles this file and checks the security
// properties and the storage names against the code (tests/.../Deployment/InfrastructureTemplateTests.cs).
targetScope = 'resourceGroup'

@description('Short name of the environment (azd sets it); resource names are derived from it.')
@minLength(1)
@maxLength(20)
param environmentName string

@description('Azure region (China North 3 for the regulator\'s own deployment: chinanorth3).')
param location string = resourceGroup().location

@description('Storage replication for the ETS data account.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param storageSku string = 'Standard_ZRS'

@description('Functions plan: EP1-EP3 Elastic Premium (default) or P1v3-P3v3 Dedicated.')
@allowed(['EP1', 'EP2', 'EP3', 'P1v3', 'P2v3', 'P3v3'])
param planSku string = 'EP1'

@description('Most instances the Elastic Premium plan scales out to.')
@minValue(1)
@maxValue(100)
param maximumInstances int = 10

@description('Days documents stay unmodifiable: reports, verification documents, published lists (Art. 22). 2192 days covers the app\'s "to the end of the fifth year after" rule.')
@minValue(1826)
param documentRetentionDays int = 2192

@description('Days a deleted blob, container or earlier blob version can be restored.')
@minValue(7)
@maxValue(365)
param softDeleteDays int = 30

@description('Days logs are kept in Log Analytics.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 90

@description('Entra ID tenant that issues API tokens (defaults to the deployment\'s tenant).')
param authTenantId string = subscription().tenantId

@description('Audience of the API app registration, e.g. api://beijing-ets (the tokens\' aud claim).')
@minLength(1)
param authAudience string

@description('Issuer the tokens must carry; empty means https://login.microsoftonline.com/<tenant>/v2.0 (or the sovereign cloud\'s).')
param authIssuer string = ''

var suffix = uniqueString(subscription().id, resourceGroup().id, environmentName)
var storageAccountName = take('stets${suffix}', 24)
var keyVaultName = take('kv-ets-${suffix}', 24)
var appInsightsName = 'appi-ets-${suffix}'
var uploadEventsQueue = 'upload-events' // StorageNames.Queues.UploadEvents
var tags = {
  'azd-env-name': environmentName
  application: 'beijing-ets'
}

@description('Region of the web portal (Static Web Apps runs in a few regions only: eastasia, eastus2, westeurope, ...).')
param portalLocation string = 'eastasia'

@description('More origins the portal is served from (a custom domain), besides its Static Web Apps address.')
param portalOrigins array = []

// The web portal: static files on Static Web Apps; the API and the upload links allow its origin (CORS).
module portal 'modules/portal.bicep' = {
  name: 'portal'
  params: {
    location: portalLocation
    tags: tags
    name: 'stapp-ets-${suffix}'
  }
}

// Each added origin is exactly https://host[:port] (what a browser sends in Origin): a '*', plain http or a path would
// open the API and the upload links to other sites' pages, or never match; the deployment stops, naming it.
var checkedPortalOrigins = [
  for origin in portalOrigins: startsWith(origin, 'https://') && length(split(origin, '/')) == 3 && !empty(split(origin, '/')[2]) && !contains(origin, '*')
    ? origin
    : fail('portalOrigins: \'${origin}\' is not an https origin (https://host, no path, no wildcard).')
]
var portalCorsOrigins = concat([portal.outputs.url], checkedPortalOrigins)

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    name: storageAccountName
    skuName: storageSku
    documentRetentionDays: documentRetentionDays
    softDeleteDays: softDeleteDays
    corsOrigins: portalCorsOrigins
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    workspaceName: 'log-ets-${suffix}'
    appInsightsName: appInsightsName
    retentionDays: logRetentionDays
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    tags: tags
    name: keyVaultName
    tenantId: subscription().tenantId
  }
}

@description('The Entra application (client) id that signs in to Azure Communication Services SMTP for the notices\' email; empty: notices stay in the in-app inbox, no email is sent.')
param smtpEntraAppId string = ''

@description('Where Communication Services keeps its data (e.g. Asia Pacific).')
param emailDataLocation string = 'Asia Pacific'

module email 'modules/email.bicep' = if (!empty(smtpEntraAppId)) {
  name: 'email'
  params: {
    tags: tags
    dataLocation: emailDataLocation
    emailServiceName: 'acs-email-ets-${suffix}'
    communicationServiceName: 'acs-ets-${suffix}'
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    tags: tags
    name: 'func-ets-${suffix}'
    planName: 'plan-ets-${suffix}'
    planSku: planSku
    maximumInstances: maximumInstances
    storageAccountName: storageAccountName
    contentAccountName: take('stetscontent${suffix}', 24)
    keyVaultName: keyVaultName
    appInsightsName: appInsightsName
    authTenantId: authTenantId
    authAudience: authAudience
    authIssuer: authIssuer
    // ACS SMTP user name: <communication resource name>.<Entra application id>.<tenant id>.
    smtpUserName: empty(smtpEntraAppId) ? '' : '${email!.outputs.communicationServiceName}.${smtpEntraAppId}.${subscription().tenantId}'
    smtpFrom: empty(smtpEntraAppId) ? '' : email!.outputs.senderAddress
    corsOrigins: portalCorsOrigins
  }
  dependsOn: [
    storage
    keyVault
    monitoring
  ]
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  params: {
    location: location
    tags: tags
    name: 'evgt-ets-${suffix}'
    storageAccountName: storageAccountName
    queueName: uploadEventsQueue
    uploadsContainer: 'upload-staging'
  }
  dependsOn: [
    storage
  ]
}

@description('The API base address: append /api/... (GET /api/health needs no token).')
output FUNCTION_APP_URL string = functionApp.outputs.url
output FUNCTION_APP_NAME string = functionApp.outputs.name
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_RESOURCE_GROUP string = resourceGroup().name

@description('The web portal: deploy ./publish-portal there (README, Web portal).')
output PORTAL_URL string = portal.outputs.url
output PORTAL_NAME string = portal.outputs.name
