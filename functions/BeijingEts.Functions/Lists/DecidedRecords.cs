using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Lists;

/// <summary>
/// Saves a decision on a record that several people decide in turn (a removal, a merger or split): the record is
/// replaced only if nobody decided it meanwhile (else 409, nothing written), then the decision's audit row, then 200.
/// </summary>
internal static class DecidedRecords
{
    public static async Task<Results<Ok<T>, ProblemHttpResult>> SaveAsync<T>(
        Func<T, ETag, CancellationToken, Task> replace, string name, string resource,
        AuditLog audit, Actor actor, string action, T before, T after, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await replace(after, etag, cancellationToken);
        }
        catch (TableTransactionFailedException error) when (error.Status == 412)
        {
            return Problems.Conflict($"{name} changed while you were deciding it; read it and try again.");
        }
        await audit.RecordAsync(actor, action, resource, before, after, cancellationToken);
        return TypedResults.Ok(after);
    }
}
