// The app's one data account: tables (records), queues (work) and blob containers (documents).
// Names are the ones in functions/BeijingEts.Functions/Storage/StorageNames.cs; a test compares the compiled
// template with the code, so a name added in one place and not the other fails CI.

@description('Azure region.')
param location string

@description('Storage account name (3-24 lowercase letters and digits).')
param name string

@description('Replication: zone-redundant by default, so one zone failure loses no record of a tonne.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS', 'Standard_RAGZRS'])
param skuName string

@description('Days a document is kept unmodifiable (Art. 22: at least 5 years; the app keeps to the end of the fifth year after, so up to 6).')
@minValue(1826)
param documentRetentionDays int

@description('Days a deleted blob or container (and a previous blob version) can be restored.')
@minValue(7)
param softDeleteDays int

param tags object

@description('Origins whose pages PUT to the signed upload links from the browser (the web portal).')
param corsOrigins array = []

var tables = [
  'audit'
  'calendar'
  'timerstatus'
  'blobscan'
  'uploads'
  'units'
  'listrules'
  'statistics'
  'listrevisions'
  'unitchanges'
  'removals'
  'ledger'
  'ledgertransactions'
  'participants'
  'allocationplans'
  'allocations'
  'objections'
  'emissionfactors'
  'reports'
  'verifications'
  'confirmations'
  'verifiers'
  'reportsamples'
  'reportattachments'
  'monthlydata'
  'qualityplans'
  'checks'
  'cases'
  'adjustments'
  'optins'
  'exchangereports'
  'projects'
  'accountapplications'
  'surrenders'
  'cycles'
  'cyclesteps'
  'funds'
  'orders'
  'orderbook'
  'negotiated'
  'auctions'
  'marketwatch'
  'approvals'
  'notices'
  'contacts'
]

// Each queue has a -poison twin, where the Functions host moves a message after maxDequeueCount (host.json).
var queues = [
  'upload-events'
  'allowance-events'
  'market-match'
  'market-settlement'
  'notice-delivery'
]

// Containers holding what Art. 22 says must be kept (reports, verification reports and statements, supporting
// documents, published lists, the statistics a list was computed from, audit images) get a time-based retention
// policy on every blob version: nobody, the app included, can overwrite or delete them before it expires.
var documentContainers = [
  'uploads'
  'audit'
  'imports'
  'published-lists'
  'reports'
  'district-checks'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Shared-key (account key) access is off: the app and the Functions host reach this account with their managed
    // identity, and the signed upload and download links it hands to verification bodies are user-delegation SAS,
    // signed with a key obtained through Entra ID (Storage Blob Delegator), not with the account key. So no
    // account key is ever needed here, and a leaked key could not open the documents. (The one thing on the
    // platform that still needs a key, the Elastic Premium plan's Azure Files content share, is in a separate
    // account that holds no ETS data: see functionapp.bicep.)
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: { enabled: true, keyType: 'Account' }
        file: { enabled: true, keyType: 'Account' }
        queue: { enabled: true, keyType: 'Account' }
        table: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: true
    changeFeed: {
      enabled: true
    }
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    // The portal's verification upload: a browser PUT to a signed link (the link is the permission; CORS only lets the page send it).
    cors: {
      corsRules: empty(corsOrigins) ? [] : [
        {
          allowedOrigins: corsOrigins
          allowedMethods: [
            'PUT'
            'OPTIONS'
          ]
          allowedHeaders: [
            'content-type'
            'x-ms-blob-type'
            'x-ms-version'
            'x-ms-client-request-id'
          ]
          exposedHeaders: [
            'x-ms-request-id'
          ]
          maxAgeInSeconds: 600
        }
      ]
    }
  }
}

// Containers of working state, not documents: the leases that make one instance at a time match a book, and the
// staging area signed upload links write to. Staging is not write-once on purpose: an upload refused on its size is
// never kept, and what is accepted is copied into 'uploads' (write-once) before anything reads it.
var workContainers = [
  'upload-staging'
  'market-locks'
]

// Staged uploads are copies or refusals once processed; clear them (and their versions) after a week.
resource stagingLifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'clear-upload-staging'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'upload-staging/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: 7
                }
              }
              version: {
                delete: {
                  daysAfterCreationGreaterThan: 7
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource work 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in workContainers: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in documentContainers: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
      // Version-level WORM: needs blob versioning (on above) and lets the default policy below apply to each version.
      immutableStorageWithVersioning: {
        enabled: true
      }
    }
  }
]

// Unlocked when created, so a mistaken deployment can still be corrected; lock it once checked (README: Deploy to
// Azure), after which the period can only be extended.
resource retention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = [
  for (container, i) in documentContainers: {
    parent: containers[i]
    name: 'default'
    properties: {
      immutabilityPeriodSinceCreationInDays: documentRetentionDays
      allowProtectedAppendWrites: false
    }
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tableResources 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for table in tables: {
    parent: tableService
    name: table
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queueResources 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queue in concat(queues, map(queues, q => '${q}-poison')): {
    parent: queueService
    name: queue
  }
]

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
