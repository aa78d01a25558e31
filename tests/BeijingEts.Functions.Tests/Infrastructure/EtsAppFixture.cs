using System.Net.Http.Headers;
using Azure.Storage.Queues;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace BeijingEts.Functions.Tests.Infrastructure;

/// <summary>
/// Starts the real app (Kestrel on a free loopback port, the local trigger runtime, real Azurite) with a storage
/// prefix of its own, so test classes run in parallel on one Azurite. Subclasses add functions, settings or a clock.
/// </summary>
public class EtsAppFixture : IAsyncLifetime
{
    public string SigningKey { get; } = Convert.ToHexString(Guid.NewGuid().ToByteArray()) + Convert.ToHexString(Guid.NewGuid().ToByteArray());
    public string Prefix { get; } = "t" + Guid.NewGuid().ToString("N")[..10];
    public WebApplication App { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public StorageClients Storage => App.Services.GetRequiredService<StorageClients>();

    protected virtual IEnumerable<Type> ExtraFunctions => [];

    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>Runs before the app starts: state a test needs to find in storage at start-up.</summary>
    protected virtual Task SeedAsync(StorageClients storage) => Task.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        var connection = Environment.GetEnvironmentVariable(StorageClients.ConnectionSetting)
            ?? throw new InvalidOperationException("AzureWebJobsStorage is not set: run the tests with ./scripts/test.sh, which starts Azurite.");
        var settings = new Dictionary<string, string?>
        {
            [StorageClients.ConnectionSetting] = connection,
            ["Ets:Port"] = "0",
            ["Ets:StoragePrefix"] = Prefix,
            ["Ets:BlobScanIntervalMs"] = "200",
            // The durable engine's worker polls its queues: only the classes that run orchestrations turn it on.
            ["Ets:Durable:Worker"] = "false",
            ["Ets:Durable:PartitionCount"] = "1",
            ["Auth:SigningKey"] = SigningKey,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
            // Tests make functions fail on purpose; their error logs would bury a real failure's output.
            ["Logging:LogLevel:BeijingEts.Functions.Hosting.Invocation.FunctionInvoker"] = "None",
            ["Logging:LogLevel:Function"] = "Error",
        };
        foreach (var (key, value) in Settings) settings[key] = value;
        _settings = settings;
        App = Build();
        await SeedAsync(Storage);
        await StartAsync();
    }

    private Dictionary<string, string?> _settings = [];

    /// <summary>Development, as run.sh: the only environment that accepts the local signing key the tokens below are made with.</summary>
    protected virtual string EnvironmentName => "Development";

    /// <summary>Endpoints a test adds beside the app's own (mapped before the app starts).</summary>
    protected virtual void MapEndpoints(WebApplication app)
    {
    }

    private WebApplication Build()
    {
        var app = EtsApp.Build(["--environment", EnvironmentName], _settings, services =>
        {
            foreach (var type in ExtraFunctions) services.AddFunction(type);
            ConfigureServices(services);
        });
        MapEndpoints(app);
        return app;
    }

    private async Task StartAsync()
    {
        await App.StartAsync(TestContext.Current.CancellationToken);
        var addresses = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
    }

    /// <summary>Stops the app as a host would (work in flight is cut off) and starts a new one on the same storage; clients made before point at the old port.</summary>
    public Task RestartAsync() => RestartAsync(CancellationToken.None);

    /// <summary>
    /// Stops the app as a crash would, as near as one process can: the host gets no time to stop, so the durable worker
    /// drops what it is running (a dropped activity may still finish its writes, as a dying machine's last requests
    /// may); then starts a new one on the same storage.
    /// </summary>
    public async Task KillAsync()
    {
        using var noTime = new CancellationTokenSource();
        noTime.Cancel();
        await RestartAsync(noTime.Token);
    }

    private async Task RestartAsync(CancellationToken stopping)
    {
        var gaps = App.Services.GetRequiredService<AuditGaps>();
        await App.StopAsync(stopping);
        await App.DisposeAsync();
        AssertEveryChangeAudited(gaps);
        App = Build();
        await StartAsync();
    }

    /// <summary>
    /// Starts another instance of the app on the same storage (its own port and trigger runtime), as a scaled-out
    /// function app would run; the caller stops it. Clients for it: <see cref="Client(Uri, string?, string?)"/>.
    /// </summary>
    public async Task<(WebApplication App, Uri BaseAddress)> StartAnotherInstanceAsync()
    {
        var app = Build();
        await app.StartAsync(TestContext.Current.CancellationToken);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return (app, new Uri(addresses.First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))));
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (App is null) return;
        var storage = Storage;
        var gaps = App.Services.GetRequiredService<AuditGaps>();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
        await DeletePrefixedAsync(storage);
        AssertEveryChangeAudited(gaps);
    }

    /// <summary>
    /// Fails the test class when a state-changing request succeeded without its audit row (the app also answered it
    /// 500 in Development; this catches the test that did not look at the answer).
    /// </summary>
    private static void AssertEveryChangeAudited(AuditGaps gaps) =>
        Assert.True(gaps.Requests.Count == 0, $"These requests changed state without an audit row: {string.Join("; ", gaps.Requests)}.");

    public HttpClient Client(string? role = null, string? scope = null) => Client(BaseAddress, role, scope);

    public HttpClient Client(Uri baseAddress, string? role = null, string? scope = null)
    {
        var client = new HttpClient { BaseAddress = baseAddress };
        if (role is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(role, scope));
        }
        return client;
    }

    /// <summary>A bearer token the app accepts for the role and scope.</summary>
    public virtual string Token(string role, string? scope = null) => LocalTokens.Create(SigningKey, role, scope);

    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public QueueClient Queue(string logicalName) => Storage.Queue(logicalName);

    private async Task DeletePrefixedAsync(StorageClients storage)
    {
        await foreach (var table in storage.Tables.QueryAsync(t => t.Name.CompareTo(Prefix) >= 0 && t.Name.CompareTo(Prefix + "{") < 0))
            await storage.Tables.DeleteTableAsync(table.Name);
        await foreach (var queue in storage.Queues.GetQueuesAsync(prefix: Prefix))
            await storage.Queues.DeleteQueueAsync(queue.Name);
        await foreach (var container in storage.Blobs.GetBlobContainersAsync(prefix: Prefix))
        {
            // The durable engine's app-lease container may still be leased by the stopped app.
            var client = storage.Blobs.GetBlobContainerClient(container.Name);
            if (container.Properties.LeaseState == Azure.Storage.Blobs.Models.LeaseState.Leased)
                await Azure.Storage.Blobs.Specialized.SpecializedBlobExtensions.GetBlobLeaseClient(client).BreakAsync(TimeSpan.Zero);
            await client.DeleteAsync();
        }
    }
}

public static class Eventually
{
    /// <summary>Polls until the condition holds; fails with the message after the timeout (generous: machines are shared).</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {because}.");
            await Task.Delay(50);
        }
    }
}

/// <summary>The app with queue settings for tests: failed messages come back at once, and idle queues are polled often.</summary>
public class FastQueueFixture : EtsAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Ets:HostJson"] = Runtime.TestHostJson.Write(maxDequeueCount: 5, visibilityTimeout: "00:00:00", maxPollingInterval: "00:00:00.200"),
    };
}
