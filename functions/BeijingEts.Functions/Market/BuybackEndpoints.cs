using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Market;

/// <summary>
/// Buy-backs (回购, Art. 20, 31): POST /api/buybacks (regulator) buys allowances from the market into the reserve with
/// a buy order in the public book at a price limit, paid from the reserve's funds account (which the municipal
/// finance pays into, and auction proceeds too); GET /api/buybacks (regulator, exchange) lists them with how far each
/// has filled; DELETE /api/buybacks/{id} cancels what is left. A buy-back must leave the reserve within the year's
/// ceiling (at most 5% of the cap, Art. 12), counting what open buy-backs still seek.
/// </summary>
public sealed class BuybackEndpoints : IHttpFunction
{
    public sealed record Request(int Vintage, Tonnes Quantity, decimal MaxPrice, string? ClientId = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/buybacks", CreateAsync).WithTags("Market");
        api.MapGet("/buybacks", ListAsync).WithTags("Market");
        api.MapDelete("/buybacks/{id}", CancelAsync).WithTags("Market");
    }

    private static async Task<Results<Created<OrderView>, Ok<OrderView>, ProblemHttpResult>> CreateAsync(
        Request request, HttpContext http, ReserveBudget reserve, AuditLog audit, [AsParameters] OrderEndpoints.Services services, CancellationToken cancellationToken)
    {
        if (TransactionRules.VintageProblem(request.Vintage) is { } vintageProblem) return ProblemHandling.BadRequest(vintageProblem);
        if (MarketChecks.QuantityProblem(request.Quantity.Value, capped: false) is { } quantityProblem) return ProblemHandling.BadRequest(quantityProblem);
        var clientId = request.ClientId ?? Guid.NewGuid().ToString("N");
        var order = new OrderEndpoints.PlaceRequest(clientId, Products.Bea, request.Vintage, "buy", request.MaxPrice, request.Quantity);
        Results<Created<OrderView>, Ok<OrderView>, ProblemHttpResult>? placed = null;
        // Checked and placed as the only buy-back or auction of the vintage at the time, so two cannot both count the same room.
        var refused = await reserve.CommitAsync(request.Vintage, async () =>
        {
            if (await services.Orders.FindByClientIdAsync(RegulatorAccounts.Reserve, clientId, cancellationToken) is null)
            {
                var standing = await reserve.ReadAsync(request.Vintage, cancellationToken);
                if (standing.Ceiling is null) return Problems.Unprocessable($"There is no {request.Vintage} allocation plan, so no reserve to buy into (PUT /api/allocation/{request.Vintage}/plan sets it, Art. 12).");
                if (standing.RoomForBuyBacks < request.Quantity.Value)
                {
                    return Problems.Unprocessable($"The {request.Vintage} reserve may hold at most {standing.Ceiling} t (5% of the cap at most, Art. 12): it holds {standing.Held} t and open buy-backs seek {standing.SoughtInBuyBacks} t more, so at most {standing.RoomForBuyBacks} t can be bought back.",
                        new Dictionary<string, object?> { ["room"] = standing.RoomForBuyBacks });
                }
            }
            placed = await OrderEndpoints.PlaceForAsync(RegulatorAccounts.Reserve, order, services, cancellationToken);
            return null;
        }, cancellationToken);
        if (refused is not null) return refused;
        if (placed!.Result is Created<OrderView> created)
        {
            await audit.RecordAsync(Actor.From(http.User), "market.buyback-placed", $"buybacks/{created.Value!.OrderId}", null, created.Value, cancellationToken);
            return TypedResults.Created($"/api/buybacks/{created.Value.OrderId}", created.Value);
        }
        return placed.Result is Ok<OrderView> ? AuditLog.Replayed(http, placed) : placed; // the same clientId again: placed and recorded before
    }

    private static async Task<Ok<IReadOnlyList<OrderView>>> ListAsync(OrderStore orders, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<OrderView>>((await orders.ListAsync(RegulatorAccounts.Reserve, null, cancellationToken)).Select(OrderView.Of).ToList());

    private static async Task<Results<Accepted<OrderView>, ProblemHttpResult>> CancelAsync(
        string id, HttpContext http, OrderStore orders, BookJournal journal, MarketMatcher matcher, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var cancelled = await OrderEndpoints.CancelForAsync(RegulatorAccounts.Reserve, id, orders, journal, matcher, clock, cancellationToken);
        if (cancelled.Result is Accepted<OrderView> { Value: { } order }) await audit.RecordAsync(Actor.From(http.User), "market.buyback-cancel-requested", $"buybacks/{id}", order, null, cancellationToken);
        return cancelled;
    }
}
