using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace BeijingEts.Functions.Tests.Runtime;

/// <summary>Counts attempts per message body; fails a body whose text says how many times to fail.</summary>
[QueueTrigger("flaky")]
public sealed class FlakyQueueFunction(AttemptLog attempts) : IQueueFunction
{
    public Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var attempt = attempts.Record(message.Body, message.DequeueCount);
        var failures = message.Body.StartsWith("fail-always", StringComparison.Ordinal) ? int.MaxValue
            : message.Body.StartsWith("fail-twice", StringComparison.Ordinal) ? 2
            : 0;
        if (attempt <= failures) throw new InvalidOperationException($"attempt {attempt} of {message.Body} fails on purpose");
        return Task.CompletedTask;
    }
}

public sealed class AttemptLog
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<long>> _dequeueCounts = new();

    public int Record(string body, long dequeueCount)
    {
        var log = _dequeueCounts.GetOrAdd(body, _ => new ConcurrentQueue<long>());
        log.Enqueue(dequeueCount);
        return log.Count;
    }

    public IReadOnlyList<long> For(string body) => _dequeueCounts.TryGetValue(body, out var log) ? log.ToList() : [];
}

public sealed class FlakyQueueFixture : EtsAppFixture
{
    public AttemptLog Attempts { get; } = new();

    protected override IEnumerable<Type> ExtraFunctions => [typeof(FlakyQueueFunction)];

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Ets:HostJson"] = TestHostJson.Write(maxDequeueCount: 3, visibilityTimeout: "00:00:00", maxPollingInterval: "00:00:00.200"),
        ["Ets:BlobScanDisabled"] = "true",
    };

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton(Attempts);
}

public sealed class QueueRuntimeTests(FlakyQueueFixture app) : IClassFixture<FlakyQueueFixture>
{
    [Fact]
    public async Task FailingMessage_IsRetriedThenMovedToPoisonAfterMaxDequeueCount()
    {
        var body = "fail-always-" + Guid.NewGuid();
        await app.Queue("flaky").SendMessageAsync(body, TestContext.Current.CancellationToken);

        var poison = app.Queue("flaky-poison");
        await Eventually.HoldsAsync(async () => (await poison.PeekMessagesAsync(32)).Value.Any(m => m.Body.ToString() == body),
            "the message is on flaky-poison");

        Assert.Equal([1L, 2L, 3L], app.Attempts.For(body));
        await Task.Delay(500, TestContext.Current.CancellationToken); // a fourth delivery would show up by now
        Assert.Equal(3, app.Attempts.For(body).Count);
        Assert.DoesNotContain((await app.Queue("flaky").PeekMessagesAsync(32)).Value, m => m.Body.ToString() == body);
    }

    [Fact]
    public async Task MessageThatFailsTwice_SucceedsOnThirdDeliveryAndIsNotPoisoned()
    {
        var body = "fail-twice-" + Guid.NewGuid();
        await app.Queue("flaky").SendMessageAsync(body, TestContext.Current.CancellationToken);

        await Eventually.HoldsAsync(() => Task.FromResult(app.Attempts.For(body).Count == 3), "the third delivery ran");
        await Eventually.HoldsAsync(async () => (await app.Queue("flaky").GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, "the message is deleted");

        Assert.Equal([1L, 2L, 3L], app.Attempts.For(body));
        Assert.DoesNotContain((await app.Queue("flaky-poison").PeekMessagesAsync(32)).Value, m => m.Body.ToString() == body);
    }

    [Fact]
    public async Task ManyMessages_AreEachHandledOnce()
    {
        var bodies = Enumerable.Range(0, 40).Select(i => $"ok-{i}-{Guid.NewGuid()}").ToList();
        await Task.WhenAll(bodies.Select(b => app.Queue("flaky").SendMessageAsync(b)));

        await Eventually.HoldsAsync(() => Task.FromResult(bodies.All(b => app.Attempts.For(b).Count >= 1)), "every message ran");
        await Task.Delay(300, TestContext.Current.CancellationToken);

        Assert.All(bodies, b => Assert.Single(app.Attempts.For(b)));
    }
}

public static class TestHostJson
{
    /// <summary>The repository's host.json with the queue settings a test needs to run fast.</summary>
    public static string Write(int maxDequeueCount, string visibilityTimeout, string maxPollingInterval)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")))!;
        var queues = json["extensions"]!["queues"]!;
        queues["maxDequeueCount"] = maxDequeueCount;
        queues["visibilityTimeout"] = visibilityTimeout;
        queues["maxPollingInterval"] = maxPollingInterval;
        var path = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }
}
