using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Market;

/// <summary>An alert with where its vintage's reserve stands now: what the regulator has to intervene with (Art. 20).</summary>
public sealed record AlertView(PriceAlert Alert, ReserveStanding Reserve)
{
    public string Id => Alert.Id;
}

/// <summary>
/// The regulator's market oversight: GET /api/market/alerts[?from=&amp;to=] lists price alerts (Art. 20) each with the
/// reserve left for intervention; GET /api/market/surveillance?date= runs the day's surveillance checks (Art. 34);
/// PUT/GET/DELETE /api/market/related-parties declares the related parties those checks watch.
/// </summary>
public sealed class MarketWatchEndpoints : IHttpFunction
{
    public sealed record RelatedRequest(string? A, string? B, string? Reason);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/market/alerts", AlertsAsync).WithTags("Market");
        api.MapGet("/market/surveillance", SurveillanceAsync).WithTags("Market");
        api.MapPut("/market/related-parties", DeclareAsync).WithTags("Market");
        api.MapGet("/market/related-parties", async (MarketWatchStore watch, CancellationToken ct) => TypedResults.Ok(await watch.RelatedAsync(ct)))
            .WithTags("Market");
        api.MapDelete("/market/related-parties/{a}/{b}", RemoveAsync).WithTags("Market");
    }

    private static async Task<Results<Ok<IReadOnlyList<AlertView>>, ProblemHttpResult>> AlertsAsync(
        DateOnly? from, DateOnly? to, MarketWatchStore watch, ReserveBudget reserve, CancellationToken cancellationToken)
    {
        if (from > to) return ProblemHandling.BadRequest("from is after to.");
        var alerts = (await watch.AlertsAsync(cancellationToken)).Where(a => (from is null || a.Date >= from) && (to is null || a.Date <= to)).ToList();
        var standings = new Dictionary<int, ReserveStanding>();
        foreach (var vintage in alerts.Select(a => a.Vintage).Distinct()) standings[vintage] = await reserve.ReadAsync(vintage, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AlertView>>(alerts.Select(a => new AlertView(a, standings[a.Vintage])).ToList());
    }

    private static async Task<Results<Ok<SurveillanceReport>, ProblemHttpResult>> SurveillanceAsync(
        DateOnly? date, Surveillance surveillance, TimeProvider clock, CancellationToken cancellationToken)
    {
        var day = date ?? BeijingTime.Today(clock);
        if (day > BeijingTime.Today(clock)) return ProblemHandling.BadRequest($"date {day:yyyy-MM-dd} is in the future; surveillance looks at days that have traded.");
        return TypedResults.Ok(await surveillance.RunAsync(day, cancellationToken));
    }

    private static async Task<Results<Ok<RelatedParties>, ProblemHttpResult>> DeclareAsync(
        RelatedRequest request, HttpContext http, MarketWatchStore watch, AccountDirectory accounts, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (request.A is null || request.B is null || !UnitInput.TryParse(request.A, out var a, out _) || !UnitInput.TryParse(request.B, out var b, out _))
        {
            return ProblemHandling.BadRequest("a and b are the two participants' unified social credit codes (18 characters).");
        }
        if (a == b) return ProblemHandling.BadRequest("a and b are the same participant.");
        foreach (var code in new[] { a, b })
        {
            if (!await accounts.ExistsAsync(code, cancellationToken)) return Problems.Unprocessable($"{code} has no holding account; related parties are registered units or participants.");
        }
        var (x, y) = RelatedParties.Ordered(a, b);
        var pair = new RelatedParties(x, y, request.Reason?.Trim(), Actor.From(http.User).Id, clock.GetUtcNow());
        await watch.DeclareAsync(pair, cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), "market.related-parties-declared", $"market/related-parties/{x}/{y}", null, pair, cancellationToken);
        return TypedResults.Ok(pair);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(
        string a, string b, HttpContext http, MarketWatchStore watch, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(a, out var first, out var invalid) || !UnitInput.TryParse(b, out var second, out invalid)) return invalid!;
        if (!await watch.RemoveAsync(first, second, cancellationToken)) return ProblemHandling.NotFound($"{first} and {second} are not declared related.");
        await audit.RecordAsync(Actor.From(http.User), "market.related-parties-removed", $"market/related-parties/{first}/{second}", null, null, cancellationToken);
        return TypedResults.NoContent();
    }
}
