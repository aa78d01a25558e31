using System.Text.RegularExpressions;
using System.Text.Json.Nodes;

namespace BeijingEts.Functions.Tests.Deployment;

/// <summary>
/// infra/ cannot be deployed from here, so it is proven by compiling and linting it with the Bicep CLI and reading the
/// ARM JSON it compiles to: the security properties the platform promises, and that every table, queue and container
/// the code names is created.
/// </summary>
public sealed partial class InfrastructureTemplateTests
{
    private const int FiveYearsInDays = 5 * 365 + 1; // at least one leap day in any five years

    private static readonly Dictionary<string, string> Roles = new()
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["db58b8e5-c6ad-4a2a-8342-4190687cbf4a"] = "Storage Blob Delegator",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User",
        ["c6a89b2d-59bc-44d0-9896-0f6e12d7b80a"] = "Storage Queue Data Message Sender",
    };

    [Fact]
    public async Task Bicep_CompilesAndLintsWithoutAWarning()
    {
        var template = await BicepTemplate.LoadAsync();

        Assert.True(template.BuildExitCode == 0, template.BuildOutput);
        Assert.True(template.LintExitCode == 0, template.LintOutput);
        Assert.DoesNotContain("Warning", template.BuildOutput, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Warning", template.LintOutput, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Error", template.LintOutput, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task EveryStorageAccount_RequiresTls12AndHttpsAndHasNoPublicBlobs()
    {
        var template = await BicepTemplate.LoadAsync();

        var accounts = template.Resources("Microsoft.Storage/storageAccounts").Where(a => a["existing"] is null).ToList();
        Assert.Equal(2, accounts.Count); // the data account, and the content share's (Elastic Premium only)
        foreach (var account in accounts)
        {
            var properties = account["properties"]!;
            Assert.Equal("TLS1_2", properties["minimumTlsVersion"]!.GetValue<string>());
            Assert.True(properties["supportsHttpsTrafficOnly"]!.GetValue<bool>());
            Assert.False(properties["allowBlobPublicAccess"]!.GetValue<bool>());
        }
    }

    [Fact]
    public async Task DataAccount_TakesNoSharedKey_KeepsVersionsAndDeletedBlobs_AndIsZoneRedundantByDefault()
    {
        var template = await BicepTemplate.LoadAsync();
        var storage = template.Module("storage");

        var account = Resource(storage, "Microsoft.Storage/storageAccounts");
        Assert.False(account["properties"]!["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.Equal("[parameters('skuName')]", account["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("Standard_ZRS", template.Main["parameters"]!["storageSku"]!["defaultValue"]!.GetValue<string>());
        var blobService = Resource(storage, "Microsoft.Storage/storageAccounts/blobServices")["properties"]!;
        Assert.True(blobService["isVersioningEnabled"]!.GetValue<bool>());
        Assert.True(blobService["deleteRetentionPolicy"]!["enabled"]!.GetValue<bool>());
        Assert.True(blobService["containerDeleteRetentionPolicy"]!["enabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task DocumentContainers_AreWriteOnceForAtLeastFiveYears_AndPrivate()
    {
        var template = await BicepTemplate.LoadAsync();
        var storage = template.Module("storage");

        var documentContainers = BicepTemplate.StringList(storage, "documentContainers");
        // Reports, verification documents (uploads), published lists, and the rest of the evidence.
        Assert.Equal(StorageNames.Containers.Documents.Order(), documentContainers.Order());
        var containers = Assert.Single(Resources(storage, "Microsoft.Storage/storageAccounts/blobServices/containers"), c => c["name"]!.GetValue<string>().Contains("documentContainers", StringComparison.Ordinal));
        Assert.Equal("[length(variables('documentContainers'))]", containers["copy"]!["count"]!.GetValue<string>());
        Assert.Equal("None", containers["properties"]!["publicAccess"]!.GetValue<string>());
        Assert.True(containers["properties"]!["immutableStorageWithVersioning"]!["enabled"]!.GetValue<bool>());

        var policy = Resource(storage, "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies");
        Assert.Equal("[length(variables('documentContainers'))]", policy["copy"]!["count"]!.GetValue<string>());
        Assert.Equal("[parameters('documentRetentionDays')]", policy["properties"]!["immutabilityPeriodSinceCreationInDays"]!.GetValue<string>());
        Assert.False(policy["properties"]!["allowProtectedAppendWrites"]!.GetValue<bool>());
        Assert.True(storage["parameters"]!["documentRetentionDays"]!["minValue"]!.GetValue<int>() >= FiveYearsInDays);

        var mainParameter = template.Main["parameters"]!["documentRetentionDays"]!;
        Assert.True(mainParameter["minValue"]!.GetValue<int>() >= FiveYearsInDays);
        Assert.True(mainParameter["defaultValue"]!.GetValue<int>() >= FiveYearsInDays);
        Assert.Equal("[parameters('documentRetentionDays')]", ModuleParameter(template, "storage", "documentRetentionDays"));
    }

    [Fact]
    public async Task EveryTableQueueAndContainerTheCodeNames_IsCreated()
    {
        var template = await BicepTemplate.LoadAsync();
        var storage = template.Module("storage");
        var names = new StorageNames("");

        Assert.Equal(StorageNames.Tables.All.Select(names.Table).Order(), BicepTemplate.StringList(storage, "tables").Order());
        var tables = Resource(storage, "Microsoft.Storage/storageAccounts/tableServices/tables");
        Assert.Equal("[length(variables('tables'))]", tables["copy"]!["count"]!.GetValue<string>());

        var queues = StorageInitializer.Queues(FunctionCatalog.Discover(typeof(EtsApp).Assembly));
        Assert.Equal(queues.Order(), BicepTemplate.StringList(storage, "queues").Order());
        // Each queue and its -poison twin (where the Functions host moves a message after maxDequeueCount).
        var queueResource = Resource(storage, "Microsoft.Storage/storageAccounts/queueServices/queues");
        Assert.Contains("concat(variables('queues'), map(variables('queues'), lambda('q', format('{0}-poison', lambdaVariables('q')))))[copyIndex()]", queueResource["name"]!.GetValue<string>());
        Assert.Equal("-poison", StorageNames.Queues.Poison(""));
        Assert.Equal(StorageNames.Containers.All.Order(), BicepTemplate.StringList(storage, "documentContainers").Concat(BicepTemplate.StringList(storage, "workContainers")).Order());
    }

    [Fact]
    public async Task UploadsRaiseBlobCreatedEventsOnTheQueueTheBlobArrivalFunctionListensOn()
    {
        var template = await BicepTemplate.LoadAsync();
        var eventGrid = template.Module("eventgrid");

        var topic = Resource(eventGrid, "Microsoft.EventGrid/systemTopics")["properties"]!;
        Assert.Equal("Microsoft.Storage.StorageAccounts", topic["topicType"]!.GetValue<string>());
        var subscription = Resource(eventGrid, "Microsoft.EventGrid/systemTopics/eventSubscriptions")["properties"]!;
        Assert.Equal("EventGridSchema", subscription["eventDeliverySchema"]!.GetValue<string>());
        Assert.Equal(["Microsoft.Storage.BlobCreated"], subscription["filter"]!["includedEventTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Contains("containers/{0}/", subscription["filter"]!["subjectBeginsWith"]!.GetValue<string>());
        Assert.Equal(StorageNames.Containers.Staging, ModuleParameter(template, "eventgrid", "uploadsContainer"));
        var destination = subscription["deliveryWithResourceIdentity"]!["destination"]!;
        Assert.Equal("StorageQueue", destination["endpointType"]!.GetValue<string>());
        Assert.Equal("[variables('uploadEventsQueue')]", ModuleParameter(template, "eventgrid", "queueName"));
        Assert.Equal(StorageNames.Queues.UploadEvents, template.Main["variables"]!["uploadEventsQueue"]!.GetValue<string>());
        var blobArrival = FunctionCatalog.Discover(typeof(EtsApp).Assembly).Functions.Single(f => f.Name == "RecordBlobArrival");
        Assert.Equal(StorageNames.Queues.UploadEvents, blobArrival.QueueName);
    }

    [Fact]
    public async Task FunctionApp_RunsTheCustomHandlerOnLinux_WithAManagedIdentityAndIdentityBasedStorage()
    {
        var template = await BicepTemplate.LoadAsync();
        var functionApp = template.Module("functionapp");

        var site = Resource(functionApp, "Microsoft.Web/sites");
        Assert.Equal("SystemAssigned", site["identity"]!["type"]!.GetValue<string>());
        Assert.Equal("functionapp,linux", site["kind"]!.GetValue<string>());
        Assert.True(site["properties"]!["httpsOnly"]!.GetValue<bool>());
        Assert.Equal("1.2", site["properties"]!["siteConfig"]!["minTlsVersion"]!.GetValue<string>());
        Assert.Equal("EP1", template.Main["parameters"]!["planSku"]!["defaultValue"]!.GetValue<string>());

        var settings = site["properties"]!["siteConfig"]!["appSettings"]!.GetValue<string>();
        Assert.Equal("'custom'", Setting(settings, "FUNCTIONS_WORKER_RUNTIME"));
        Assert.Equal("parameters('storageAccountName')", Setting(settings, "AzureWebJobsStorage__accountName"));
        Assert.Null(Setting(settings, "AzureWebJobsStorage")); // no connection string, so no key
        Assert.Contains("Microsoft.Insights/components", Setting(settings, "APPLICATIONINSIGHTS_CONNECTION_STRING"));
        Assert.Contains("authTenantId", template.Module("functionapp")["variables"]!["authority"]!.GetValue<string>());
        Assert.Equal("variables('authority')", Setting(settings, "Auth__Authority"));
        Assert.Equal("parameters('authAudience')", Setting(settings, "Auth__Audience"));
        Assert.NotNull(Setting(settings, "Auth__Issuer"));
        Assert.Contains("@Microsoft.KeyVault(VaultName=", Setting(settings, "Ets__Registry__DataKey")); // personal data's key: in the vault, not in the template
        Assert.StartsWith("format('@Microsoft.KeyVault(SecretUri=", Setting(settings, "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"));
        // The one account key on the platform goes into Key Vault and nowhere else.
        var keyUses = template.Resources().Where(r => BicepTemplate.Type(r.Resource) != "Microsoft.Resources/deployments" && r.Resource.ToJsonString().Contains("listKeys", StringComparison.Ordinal)).ToList();
        Assert.Equal(["Microsoft.KeyVault/vaults/secrets"], keyUses.Select(r => BicepTemplate.Type(r.Resource)));
        Assert.True(Resource(template.Module("keyvault"), "Microsoft.KeyVault/vaults")["properties"]!["enableRbacAuthorization"]!.GetValue<bool>());

        var outputs = template.Main["outputs"]!.AsObject();
        Assert.Contains("FUNCTION_APP_URL", outputs.Select(o => o.Key));
        Assert.Contains("STORAGE_ACCOUNT_NAME", outputs.Select(o => o.Key));
    }

    [Fact]
    public async Task RoleAssignments_GiveEachIdentityOnlyTheListedRoles_OnOneResourceEach()
    {
        var template = await BicepTemplate.LoadAsync();

        var granted = new Dictionary<string, List<string>>(); // principal expression -> role names
        foreach (var (assignment, declaring) in template.Resources().Where(r => BicepTemplate.Type(r.Resource) == "Microsoft.Authorization/roleAssignments"))
        {
            // A scope on the assignment itself: a storage account, a queue or the vault, never the group or subscription.
            Assert.NotNull(assignment["scope"]);
            var properties = assignment["properties"]!;
            Assert.Equal("ServicePrincipal", properties["principalType"]!.GetValue<string>());
            var principal = properties["principalId"]!.GetValue<string>();
            var roleIds = ResolveRoleIds(declaring, properties["roleDefinitionId"]!.GetValue<string>());
            granted.TryAdd(principal, []);
            granted[principal].AddRange(roleIds.Select(id => Roles.TryGetValue(id, out var name) ? name : $"unlisted role {id}"));
        }

        var site = Assert.Single(granted, g => g.Key.Contains("Microsoft.Web/sites", StringComparison.Ordinal));
        Assert.Equal(
            ["Key Vault Secrets User", "Storage Blob Data Owner", "Storage Blob Delegator", "Storage Queue Data Contributor", "Storage Table Data Contributor"],
            site.Value.Order());
        var topic = Assert.Single(granted, g => g.Key.Contains("Microsoft.EventGrid/systemTopics", StringComparison.Ordinal));
        Assert.Equal(["Storage Queue Data Message Sender"], topic.Value);
        Assert.Equal(2, granted.Count);
    }

    /// <summary>The role ids a roleDefinitionId expression names, following the template's variables.</summary>
    private static IReadOnlyList<string> ResolveRoleIds(JsonObject template, string expression)
    {
        var guid = GuidPattern().Match(expression);
        if (guid.Success) return [guid.Value];
        var reference = VariablePattern().Match(expression);
        Assert.True(reference.Success, $"roleDefinitionId {expression} names neither a role id nor a variable");
        var value = template["variables"]![reference.Groups["name"].Value]!;
        if (reference.Groups["member"].Success) value = value[reference.Groups["member"].Value]!;
        return value is JsonArray list
            ? list.SelectMany(item => ResolveRoleIds(template, item!.GetValue<string>())).ToList()
            : ResolveRoleIds(template, value.GetValue<string>());
    }

    /// <summary>The value expression of an app setting in the compiled appSettings expression, or null if absent.</summary>
    private static string? Setting(string appSettings, string name)
    {
        var start = $"createObject('name', '{name}', 'value', ";
        var at = appSettings.IndexOf(start, StringComparison.Ordinal);
        if (at < 0) return null;
        var depth = 0;
        var from = at + start.Length;
        for (var i = from; i < appSettings.Length; i++)
        {
            if (appSettings[i] == '(') depth++;
            if (appSettings[i] == ')' && depth-- == 0) return appSettings[from..i];
        }
        throw new InvalidOperationException($"Unbalanced setting {name}");
    }

    private static IEnumerable<JsonObject> Resources(JsonObject template, string type) =>
        ((JsonArray)template["resources"]!).Select(r => r!.AsObject()).Where(r => BicepTemplate.Type(r) == type && r["existing"] is null);

    private static JsonObject Resource(JsonObject template, string type) => Assert.Single(Resources(template, type));

    private static string ModuleParameter(BicepTemplate template, string module, string parameter) =>
        Assert.Single(((JsonArray)template.Main["resources"]!).Select(r => r!.AsObject()), r => r["name"]!.GetValue<string>() == module)
            ["properties"]!["parameters"]![parameter]!["value"]!.GetValue<string>();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex GuidPattern();

    [GeneratedRegex(@"variables\('(?<name>\w+)'\)(\.(?<member>\w+))?")]
    private static partial Regex VariablePattern();
}
