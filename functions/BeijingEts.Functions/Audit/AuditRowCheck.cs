using System.Collections.Concurrent;

namespace BeijingEts.Functions.Audit;

/// <summary>
/// Every state change writes an audit row. On each POST, PUT, PATCH or DELETE under /api this filter notices a success
/// (2xx) during which no row was recorded and no replay was marked: it logs an error and keeps it in
/// <see cref="AuditGaps"/>; in Development (run.sh, the tests) it also answers 500, so the missing row is a red test.
/// </summary>
public sealed class AuditRowCheck(AuditGaps gaps, IHostEnvironment environment, ILogger<AuditRowCheck> log) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!ChangesState(http.Request.Method) || http.GetEndpoint()?.Metadata.GetMetadata<NotAudited>() is not null)
        {
            return await next(context);
        }
        var mark = new AuditMark();
        http.Items[AuditMark.Key] = mark;
        var result = await next(context);
        if (mark.IsAccountedFor || StatusOf(result, http) is < 200 or > 299) return result;

        var request = $"{http.Request.Method} {http.Request.Path}";
        log.LogError("{Request} succeeded without writing an audit row; every state change must call AuditLog.RecordAsync (or AuditLog.MarkReplayed for a replay)", request);
        gaps.Add(request);
        return environment.IsDevelopment()
            ? TypedResults.Problem(statusCode: 500, title: "Missing audit row",
                detail: $"{request} succeeded without writing an audit row. Record the change with AuditLog.RecordAsync, or call AuditLog.MarkReplayed when the answer replays a recorded request.")
            : result;
    }

    private static bool ChangesState(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    /// <summary>The status the result will answer with: typed results carry it; anything else answers the response's (200 unless set).</summary>
    private static int StatusOf(object? result, HttpContext http) => result switch
    {
        INestedHttpResult nested => StatusOf(nested.Result, http),
        IStatusCodeHttpResult { StatusCode: { } status } => status,
        _ => http.Response.StatusCode,
    };
}

/// <summary>Set on the HttpContext of a state-changing request; AuditLog notes each row it writes there.</summary>
internal sealed class AuditMark
{
    public static readonly object Key = new();
    private int _rows;
    private int _replayed;

    public bool IsAccountedFor => Volatile.Read(ref _rows) > 0 || Volatile.Read(ref _replayed) > 0;

    // Handlers may record rows in parallel; only the counters change, the Items dictionary is only read.
    public void Recorded() => Interlocked.Increment(ref _rows);

    public void Replayed() => Interlocked.Exchange(ref _replayed, 1);

    public static AuditMark? Of(HttpContext? context) =>
        context is not null && context.Items.TryGetValue(Key, out var mark) ? mark as AuditMark : null;
}

/// <summary>The state-changing requests that succeeded without an audit row since the app started; the test fixture fails on any.</summary>
public sealed class AuditGaps
{
    private readonly ConcurrentQueue<string> _requests = new();

    public IReadOnlyCollection<string> Requests => _requests.ToArray();

    public void Add(string request) => _requests.Enqueue(request);

    /// <summary>Returns the gaps noted so far and forgets them (a test that provokes one on purpose).</summary>
    public IReadOnlyList<string> TakeAll()
    {
        var taken = new List<string>();
        while (_requests.TryDequeue(out var request)) taken.Add(request);
        return taken;
    }
}

/// <summary>Endpoint metadata: this state-changing route writes no audit row, with the reason (e.g. it changes nothing).</summary>
public sealed record NotAudited(string Reason);

public static class AuditSetup
{
    public static IServiceCollection AddEtsAudit(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<AuditGaps>();
        return services;
    }

    /// <summary>Checks every state-changing endpoint of the group for its audit row.</summary>
    public static TBuilder RequireAuditRows<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, AuditRowCheck>();

    /// <summary>Exempts one state-changing endpoint from the audit-row check, saying why.</summary>
    public static TBuilder NotAudited<TBuilder>(this TBuilder builder, string reason) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new NotAudited(reason));
}
