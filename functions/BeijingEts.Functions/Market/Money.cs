using System.Globalization;

namespace BeijingEts.Functions.Market;

/// <summary>
/// Money is decimal yuan with 2 places at the API and whole fen (分) in storage, so a balance is an exact integer that
/// sums without rounding.
/// </summary>
public static class Money
{
    /// <summary>The most one movement or price may be: 10^12 yuan, far beyond any account, well inside a long of fen.</summary>
    public const decimal Maximum = 1_000_000_000_000m;

    public static long ToFen(decimal yuan) => decimal.ToInt64(yuan * 100);

    public static decimal ToYuan(long fen) => fen / 100m;

    /// <summary>Null when the amount is a positive number of yuan with at most 2 decimals; else what is wrong with it.</summary>
    public static string? Problem(string field, decimal amount) =>
        amount <= 0 ? $"{field} must be more than 0 yuan; it is {amount.ToString(CultureInfo.InvariantCulture)}."
        : decimal.Round(amount, 2) != amount ? $"{field} is in yuan with at most 2 decimals (fen); {amount.ToString(CultureInfo.InvariantCulture)} has more."
        : amount > Maximum ? $"{field} may be at most {Maximum.ToString(CultureInfo.InvariantCulture)} yuan."
        : null;
}
